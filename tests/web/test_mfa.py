"""Second factor and separation of duties: TOTP for every person, enrolment only by the account holder through
a one-time link, admin resets that never hand the admin a way in, sealed seeds, own password change."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service import accounts, mfa
from recordings_service.models import User
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from tests.factories.accounts import (
    PASSWORD,
    fresh_code,
    login,
    login_via_form,
    make_enrolled_user,
    make_user,
    post_form,
    reloaded,
    shown_seed,
    sign_in_via_form,
    signed_in,
)
from tests.factories.audit import events

NEW_PASSWORD = "the holder's very own password"


def link_path(page: str) -> str:
    match = re.search(r'<code id="enrolment-link">http://[^/]+(/enrol/[^<]+)</code>', page)
    assert match, "no enrolment link on the page"
    return match.group(1)


def session_cookie_text(client: FlaskClient) -> str:
    """What the signed session cookie carries (Flask signs it, it does not encrypt it)."""
    with client.session_transaction() as cookie:
        return repr(dict(cookie))


@pytest.fixture
def admin_client(app: Flask, session: Session) -> FlaskClient:
    client = app.test_client()
    login(client, make_user(session, role=Role.ADMIN))
    return client


def create_via_admin(admin_client: FlaskClient, username: str, role: str = "qa_supervisor") -> str:
    """The admin creates an account on the page; the answer shows the holder's link."""
    # A password sent along (an old form, a crafted request) is ignored: the admin never sets one.
    data = {"username": username, "role": role, "password": PASSWORD}
    response = post_form(admin_client, "/admin/users/new", data, token_from="/admin/users/new")
    assert response.status_code == 200
    return link_path(response.get_data(as_text=True))


# ---------------------------------------------------------------- every person needs TOTP


@pytest.mark.parametrize("role", [Role.QA_SUPERVISOR, Role.TRAINER, Role.COMPLIANCE, Role.ADMIN])
def test_a_password_alone_never_signs_a_person_in(client: FlaskClient, session: Session, role: Role) -> None:
    user = make_user(session, role=role, password=PASSWORD)
    response = login_via_form(client, user.username)
    assert response.status_code == 401
    assert not signed_in(client)
    assert events(session, "login.failed")[-1].details == {"reason": "mfa_not_enrolled", "locked": False}
    assert client.get("/login/mfa").headers["Location"] == "/login"  # no way to the code step either


def test_a_qa_supervisor_signs_in_with_password_and_code(
    client: FlaskClient, session: Session, envelope: Envelope
) -> None:
    user, secret = make_enrolled_user(session, envelope, role=Role.QA_SUPERVISOR)
    assert login_via_form(client, user.username).headers["Location"] == "/login/mfa"
    assert client.get("/calls/").status_code == 302
    assert post_form(client, "/login/mfa", {"code": fresh_code(secret)}).status_code == 302
    assert client.get("/calls/").status_code == 200


# ---------------------------------------------------------------- enrolment by the holder only


def test_the_holder_sets_password_and_totp_through_the_link_once(
    app: Flask, admin_client: FlaskClient, session: Session, envelope: Envelope
) -> None:
    path = create_via_admin(admin_client, "qa.new")
    user = accounts.user_by_username(session, "qa.new")
    assert user.password_hash is None  # the admin chose no password and knows none
    assert events(session, "user.enrolment_link_issued")[-1].object_id == user.id
    # Shown once: the account page does not show it again, and it is not kept anywhere readable.
    assert path not in admin_client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert path.removeprefix("/enrol/") not in repr(
        [getattr(reloaded(session, user), column) for column in User.__table__.columns.keys()]  # noqa: SIM118
    )

    holder = app.test_client()
    seed = shown_seed(holder, path)
    assert seed not in session_cookie_text(holder)  # the pending seed stays server-side
    differ = post_form(
        holder,
        path,
        {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD + "x", "code": fresh_code(seed)},
        token_from=path,
    )
    assert differ.status_code == 422
    both = {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    wrong = post_form(holder, path, {**both, "code": "000000"}, token_from=path)
    assert wrong.status_code == 401
    assert events(session, "login.failed")[-1].details["reason"] == "bad_totp"
    done = post_form(
        holder,
        path,
        {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD, "code": fresh_code(seed)},
        token_from=path,
    )
    assert done.status_code == 302
    assert signed_in(holder)
    assert seed not in session_cookie_text(holder)

    user = reloaded(session, user)
    assert accounts.password_matches(user.password_hash, NEW_PASSWORD)
    assert (user.mfa_secret, user.enrol_token_hash) == (None, None)
    assert user.mfa_seed is not None and seed.encode() not in user.mfa_seed  # sealed at rest
    assert mfa.totp_seed(envelope, user) == seed
    assert [event.actor_id for event in events(session, "mfa.enrolled")] == [user.id]

    # Works once.
    assert app.test_client().get(path).status_code == 404
    # The holder signs in later with what only they have.
    assert sign_in_via_form(app.test_client(), user, seed, password=NEW_PASSWORD).headers["Location"] == "/"


def test_the_link_expires_after_24_hours(app: Flask, admin_client: FlaskClient, session: Session) -> None:
    path = create_via_admin(admin_client, "qa.late")
    user = accounts.user_by_username(session, "qa.late")
    assert user.enrol_expires_at is not None
    issued_for = user.enrol_expires_at - accounts.utcnow()
    assert timedelta(hours=23, minutes=59) < issued_for <= timedelta(hours=24)
    user.enrol_expires_at = accounts.utcnow() - timedelta(seconds=1)
    session.flush()
    assert app.test_client().get(path).status_code == 404


def test_an_admin_cannot_complete_the_enrolment_of_an_account_they_made(
    admin_client: FlaskClient, session: Session
) -> None:
    """Give a role that hears calls, then try the link from the admin's own session: refused, audited."""
    path = create_via_admin(admin_client, "qa.victim")
    victim = accounts.user_by_username(session, "qa.victim")
    assert admin_client.get(path).status_code == 403
    data = {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD, "code": "123456"}
    assert post_form(admin_client, path, data, token_from="/account").status_code == 403
    refused = events(session, "enrolment.refused")
    assert len(refused) == 2 and {event.object_id for event in refused} == {victim.id}
    assert refused[-1].details == {"reason": "signed_in_as_another"}
    assert reloaded(session, victim).mfa_seed is None and victim.password_hash is None


# ---------------------------------------------------------------- admin resets


def test_an_admin_password_reset_sets_no_password_and_needs_the_holders_code(
    app: Flask, admin_client: FlaskClient, session: Session, envelope: Envelope
) -> None:
    user, secret = make_enrolled_user(session, envelope)
    holder = app.test_client()
    assert sign_in_via_form(holder, user, secret).status_code == 302 and signed_in(holder)

    response = post_form(admin_client, f"/admin/users/{user.id}/password", {}, token_from=f"/admin/users/{user.id}")
    assert response.status_code == 200
    path = link_path(response.get_data(as_text=True))
    assert reloaded(session, user).password_hash is None  # nothing usable, for the admin or anyone
    assert not signed_in(holder)  # sessions ended
    assert events(session, "user.password_reset")[-1].object_id == user.id
    assert login_via_form(app.test_client(), user.username).status_code == 401  # the old password is gone

    # The link asks for a code from the holder's app: the admin, without it, gets nowhere.
    stranger = app.test_client()
    page = stranger.get(path).get_data(as_text=True)
    assert "<figure" not in page  # no new seed offered: the enrolled one stays
    both = {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    wrong = post_form(stranger, path, {**both, "code": "000000"}, token_from=path)
    assert wrong.status_code == 401
    assert reloaded(session, user).password_hash is None
    done = post_form(
        stranger,
        path,
        {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD, "code": fresh_code(secret)},
        token_from=path,
    )
    assert done.status_code == 302
    assert accounts.password_matches(reloaded(session, user).password_hash, NEW_PASSWORD)
    assert events(session, "user.password_set")[-1].actor_id == user.id


def test_an_mfa_reset_is_audited_ends_sessions_and_needs_the_holders_password(
    app: Flask, admin_client: FlaskClient, session: Session, envelope: Envelope
) -> None:
    user, secret = make_enrolled_user(session, envelope)
    holder = app.test_client()
    sign_in_via_form(holder, user, secret)
    assert signed_in(holder)

    response = post_form(admin_client, f"/admin/users/{user.id}/mfa", {}, token_from=f"/admin/users/{user.id}")
    assert response.status_code == 200
    path = link_path(response.get_data(as_text=True))
    assert not signed_in(holder)
    [reset] = events(session, "user.mfa_reset")
    assert reset.object_id == user.id and reset.role == "admin"
    assert reloaded(session, user).mfa_seed is None

    # The admin holds the link but not the password: the new factor cannot be theirs.
    visitor = app.test_client()
    seed = shown_seed(visitor, path)
    guess = post_form(visitor, path, {"password": "an admin's guess here", "code": fresh_code(seed)}, token_from=path)
    assert guess.status_code == 401
    assert reloaded(session, user).mfa_seed is None
    done = post_form(visitor, path, {"password": PASSWORD, "code": fresh_code(seed)}, token_from=path)
    assert done.status_code == 302
    assert mfa.totp_seed(envelope, reloaded(session, user)) == seed


def test_an_admin_cannot_reset_their_own_second_factor(admin_client: FlaskClient, session: Session) -> None:
    admin = session.scalars(select(User).where(User.role == Role.ADMIN)).first()
    assert admin is not None
    admin.mfa_secret = pyotp.random_base32()
    session.flush()
    response = post_form(admin_client, f"/admin/users/{admin.id}/mfa", {}, token_from=f"/admin/users/{admin.id}")
    assert response.status_code == 302
    assert reloaded(session, admin).mfa_secret is not None
    assert events(session, "user.mfa_reset") == []


# ---------------------------------------------------------------- seeds at rest, own password


def test_a_plaintext_seed_from_before_is_sealed_at_its_first_use(
    client: FlaskClient, session: Session, envelope: Envelope
) -> None:
    secret = pyotp.random_base32()
    user = make_user(session, password=PASSWORD, mfa_secret=secret)
    assert sign_in_via_form(client, user, secret).status_code == 302
    user = reloaded(session, user)
    assert user.mfa_secret is None
    assert user.mfa_seed is not None and secret.encode() not in user.mfa_seed
    assert mfa.totp_seed(envelope, user) == secret


def test_a_person_changes_their_own_password(app: Flask, session: Session, envelope: Envelope) -> None:
    user, secret = make_enrolled_user(session, envelope)
    here, elsewhere = app.test_client(), app.test_client()
    sign_in_via_form(here, user, secret)
    sign_in_via_form(elsewhere, user, secret)
    wrong = post_form(
        here,
        "/account/password",
        {"password": "not my password at all", "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
        token_from="/account/password",
    )
    assert wrong.status_code == 401
    assert events(session, "login.failed")[-1].details["reason"] == "bad_password"
    done = post_form(
        here,
        "/account/password",
        {"password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
        token_from="/account/password",
    )
    assert done.headers["Location"] == "/account"
    assert signed_in(here)
    assert not signed_in(elsewhere)
    assert accounts.password_matches(reloaded(session, user).password_hash, NEW_PASSWORD)
    assert events(session, "user.password_changed")[-1].actor_id == user.id


def test_the_test_helpers_code_taken_just_before_a_step_boundary_is_still_accepted_after_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A browser sign-in on a loaded CI machine took its code at 15:11:29 and was refused (401) at 15:11:30:
    the helper had offered the previous step's code, which expires at the step boundary."""
    secret = pyotp.random_base32()
    boundary = 1_800_000_010 // mfa.TOTP_STEP_S * mfa.TOTP_STEP_S
    monkeypatch.setattr("tests.factories.accounts.time", SimpleNamespace(time=lambda: boundary - 1.0))
    code = fresh_code(secret)

    checked_at = datetime.fromtimestamp(boundary + 1.0, UTC)
    assert mfa.accepted_step(secret, code, now=checked_at, last_step=None) is not None
