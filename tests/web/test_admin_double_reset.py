"""One admin cannot reset both factors of an account: with both reset, the enrolment link the admin is shown sets
both, and the admin would hold the account. A second admin resets the other factor, approving the first."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service import accounts, mfa
from recordings_service.audit import Actor
from recordings_service.errors import Conflict
from recordings_service.models import User
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from tests.factories.accounts import (
    PASSWORD,
    fresh_code,
    login,
    make_enrolled_user,
    make_user,
    post_form,
    reloaded,
    shown_seed,
)
from tests.factories.audit import events
from tests.page_text import visible_text
from web.cli_support import CLI_ACTOR


def reset(client: FlaskClient, user: User, factor: str) -> int:
    detail = f"/admin/users/{user.id}"
    return post_form(client, f"{detail}/{factor}", {}, token_from=detail).status_code


def admin_client(app: Flask, session: Session) -> FlaskClient:
    client = app.test_client()
    login(client, make_user(session, role=Role.ADMIN))
    return client


def test_one_admin_cannot_reset_both_factors_a_second_admin_can(
    app: Flask, session: Session, envelope: Envelope
) -> None:
    """Found by review: an admin reset an account's password, then its second factor, and the link shown to the
    admin let them choose both: the account was theirs."""
    first, second = admin_client(app, session), admin_client(app, session)
    holder, _ = make_enrolled_user(session, envelope, role=Role.TRAINER)
    assert reset(first, holder, "password") == 200
    assert reset(first, holder, "mfa") == 302  # refused, back to the account's page
    assert reloaded(session, holder).mfa_enrolled and not events(session, "user.mfa_reset")
    page = " ".join(visible_text(first.get(f"/admin/users/{holder.id}").get_data(as_text=True)).split())
    assert "another admin must reset its second factor" in page
    [refused] = events(session, "user.reset_refused")
    assert refused.object_id == holder.id
    assert refused.details == {"reset": "mfa", "reason": "password_reset_by_same_admin"}

    assert reset(second, holder, "mfa") == 200  # the second admin approves by doing it
    assert not reloaded(session, holder).mfa_enrolled


def test_the_other_order_is_refused_too_until_the_holder_has_set_the_factor_again(
    app: Flask, session: Session, envelope: Envelope
) -> None:
    admin = admin_client(app, session)
    holder, _ = make_enrolled_user(session, envelope, role=Role.TRAINER)
    assert reset(admin, holder, "mfa") == 200
    assert reset(admin, holder, "password") == 302
    assert reloaded(session, holder).password_hash is not None

    # The holder enrols again at the link: nothing is outstanding, and the same admin may reset the password.
    path = f"/enrol/{mfa.issue_enrolment_link(session, envelope, actor=Actor.anonymous(None), user_id=holder.id)}"
    holder_browser = app.test_client()
    seed = shown_seed(holder_browser, path)
    enrolled = post_form(holder_browser, path, {"password": PASSWORD, "code": fresh_code(seed)}, token_from=path)
    assert enrolled.status_code == 302
    assert reset(admin, holder, "password") == 200


def test_the_operators_cli_may_reset_both(session: Session, envelope: Envelope) -> None:
    """`callvault users` runs on the server, with its database and keys: for a holder who lost both when there is
    no second admin."""
    holder, _ = make_enrolled_user(session, envelope, role=Role.TRAINER)
    accounts.reset_password(session, actor=CLI_ACTOR, user_id=holder.id)
    mfa.reset_mfa(session, actor=CLI_ACTOR, user_id=holder.id)
    assert holder.password_hash is None and not holder.mfa_enrolled


def test_a_reset_by_another_admin_earlier_does_not_count(session: Session, envelope: Envelope) -> None:
    first, second = (make_user(session, role=Role.ADMIN) for _ in range(2))
    as_first, as_second = (Actor(id=each.id, name=each.username, role=each.role) for each in (first, second))
    holder, _ = make_enrolled_user(session, envelope, role=Role.TRAINER)
    accounts.reset_password(session, actor=as_first, user_id=holder.id)
    with pytest.raises(Conflict) as refused:
        mfa.reset_mfa(session, actor=as_first, user_id=holder.id)
    assert refused.value.why == "second_reset_mfa"
    mfa.reset_mfa(session, actor=as_second, user_id=holder.id)
    assert not holder.mfa_enrolled
