"""Found by exploratory testing: compliance's "end access now" (a suspected breach) did not stop a download already
in progress: the partner read the first megabyte, access was ended, and the rest of the package still went out
(and a whole package counted as downloaded, after the access had ended). An answer now asks again while it sends
whether the package may still go out, and ends short, the stop audited with its rule."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from jobs import research as research_jobs
from recordings_service import accounts, tokens
from recordings_service.audit import Actor
from recordings_service.models import ResearchBatch
from recordings_service.models.account import Role
from recordings_service.research import portal
from recordings_service.research.lifecycle import DOWNLOADED
from recordings_service.runtime import Runtime
from recordings_service.sign_in import end_sessions
from recordings_service.storage.encryption import CHUNK
from recordings_service.tokens import create_token
from tests.factories.accounts import SYSTEM, make_user
from tests.factories.audit import events
from tests.factories.recordings import make_token
from tests.factories.research import partner, research_call
from tests.factories.staff import client_of

MakeBatch = Callable[..., ResearchBatch]


def test_ending_access_stops_a_download_in_progress(
    client: FlaskClient,
    session: Session,
    runtime: Runtime,
    approved_batch: MakeBatch,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for _ in range(4):
        research_call(session, runtime.store, runtime.envelope)
    batch = approved_batch()
    research_jobs.build_batches(runtime)
    session.refresh(batch)
    assert batch.state == "ready" and (batch.package_size or 0) > CHUNK  # more than one chunk to send
    _, plain = create_token(session, actor=SYSTEM, user=partner(session, batch.institute_id), scope="partner")
    compliance = {"Authorization": f"Bearer {make_token(session, role='compliance', scope='research')}"}
    session.commit()
    monkeypatch.setattr(
        portal, "RECHECK_EVERY_S", 0.0, raising=False
    )  # asked before every chunk: no waiting in the test

    answer = client.get(
        f"/api/v1/research/batches/{batch.id}/package", headers={"Authorization": f"Bearer {plain}"}, buffered=False
    )
    chunks = iter(answer.response)
    received = len(next(chunks))
    ended = client.post(
        f"/api/v1/research/batches/{batch.id}/end-access", json={"reason": "Suspected breach"}, headers=compliance
    )
    assert ended.status_code == 200, ended.get_json()
    received += sum(len(chunk) for chunk in chunks)
    answer.close()

    assert answer.status_code == 200 and received == CHUNK  # the first chunk only
    [stopped] = events(session, "research.download_stopped", batch.id)
    assert stopped.details == {"rule": "window"}
    [sent] = events(session, DOWNLOADED, batch.id)
    assert (sent.details["bytes"], sent.details["complete"], sent.details["counted"]) == (CHUNK, False, False)
    session.expire_all()
    assert session.get_one(ResearchBatch, batch.id).downloads == 0


@pytest.mark.parametrize(
    ("how", "rule"),
    [("revoke_token", "token_revoked"), ("disable_account", "account_disabled"), ("sign_out", "session_ended")],
)
def test_revoking_the_partner_stops_a_download_in_progress(
    app: Flask,
    session: Session,
    runtime: Runtime,
    approved_batch: MakeBatch,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
    rule: str,
) -> None:
    """Found by a security review: revoking the partner's token, disabling its account or ending its browser
    sessions refused its next request, yet the download in progress went on to the end of the package."""
    for _ in range(4):
        research_call(session, runtime.store, runtime.envelope)
    batch = approved_batch()
    research_jobs.build_batches(runtime)
    session.refresh(batch)
    assert batch.state == "ready" and (batch.package_size or 0) > CHUNK
    holder = partner(session, batch.institute_id)
    token, plain = create_token(session, actor=SYSTEM, user=holder, scope="partner")
    admin = make_user(session, role=Role.ADMIN)
    client = client_of(app, holder) if how == "sign_out" else app.test_client()
    headers = {} if how == "sign_out" else {"Authorization": f"Bearer {plain}"}
    session.commit()
    monkeypatch.setattr(portal, "RECHECK_EVERY_S", 0.0, raising=False)

    answer = client.get(f"/api/v1/research/batches/{batch.id}/package", headers=headers, buffered=False)
    chunks = iter(answer.response)
    received = len(next(chunks))
    by = Actor(id=admin.id, name=admin.username, role=admin.role)
    if how == "revoke_token":
        tokens.revoke_token(session, actor=by, token_id=token.id)
    elif how == "disable_account":
        accounts.disable_user(session, actor=by, user_id=holder.id)
    else:
        end_sessions(session, actor=by, user=holder)
    session.commit()
    received += sum(len(chunk) for chunk in chunks)
    answer.close()

    assert answer.status_code == 200 and received == CHUNK  # the first chunk only
    [stopped] = events(session, "research.download_stopped", batch.id)
    assert stopped.details == {"rule": rule}
    session.expire_all()
    assert session.get_one(ResearchBatch, batch.id).downloads == 0
