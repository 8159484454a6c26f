"""An enrolment link's one-time token stays out of the app's logs and out of the Referer its page's requests send.

The link is mailed or handed over as a URL with the token in its path; whoever reads a log or a referrer must not
find a live link there (infra/nginx's access log masks it: tests/test_infra_nginx.py).
"""

from __future__ import annotations

import logging

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service import mfa
from recordings_service.models import User
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from tests.factories.accounts import PASSWORD, SYSTEM, fresh_code, login, make_user, post_form, shown_seed

NEW_PASSWORD = "the holder's very own password"


@pytest.fixture
def holder(session: Session) -> User:
    return make_user(session, role=Role.TRAINER)


def test_the_apps_logs_of_enrolment_requests_never_hold_the_token(
    client: FlaskClient,
    session: Session,
    envelope: Envelope,
    holder: User,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    token = mfa.issue_enrolment_link(session, envelope, actor=SYSTEM, user_id=holder.id)
    path = f"/enrol/{token}"
    assert client.get(path).status_code == 200
    differ = {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD + "!", "code": "000000"}
    assert post_form(client, path, differ, token_from=path).status_code == 422
    wrong = {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD, "code": "000000"}
    assert post_form(client, path, wrong, token_from=path).status_code == 401

    # An unexpected failure is logged with its traceback: the request's path must not ride along.
    with monkeypatch.context() as broken:
        broken.setattr(mfa, "complete_enrolment", _fail)
        assert post_form(client, path, wrong, token_from=path).status_code == 500
    assert any(record.getMessage() == "unhandled error" for record in caplog.records), "nothing was logged"

    seed = shown_seed(client, path)
    right = {**wrong, "code": fresh_code(seed)}
    assert post_form(client, path, right, token_from=path).status_code == 302

    # Someone else signed in who opens the link is refused (and audited), not logged with it.
    other = make_user(session, role=Role.ADMIN, password=PASSWORD)
    again = mfa.issue_enrolment_link(session, envelope, actor=SYSTEM, user_id=holder.id)
    login(client, other)
    assert client.get(f"/enrol/{again}").status_code == 403

    logged = caplog.text + "".join(repr(vars(record)) for record in caplog.records)
    assert token not in logged and again not in logged


def _fail(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("the enrolment broke")


def test_the_enrolment_page_sends_no_referrer(
    client: FlaskClient, session: Session, envelope: Envelope, holder: User
) -> None:
    """Found by review: the page's own requests (style sheet, script) sent its address, token and all, as their
    Referer (`same-origin`), where a proxy or server logging referrers would keep it."""
    token = mfa.issue_enrolment_link(session, envelope, actor=SYSTEM, user_id=holder.id)
    assert client.get(f"/enrol/{token}").headers["Referrer-Policy"] == "no-referrer"
    sent = post_form(client, f"/enrol/{token}", {"code": "1"}, token_from=f"/enrol/{token}")
    assert sent.headers["Referrer-Policy"] == "no-referrer"
