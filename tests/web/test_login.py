"""Web login: passwords, lockout and throttling, session lifetime, fixation, CSRF, TOTP, logout."""

from __future__ import annotations

import logging
import time
from dataclasses import replace

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from limits import parse
from sqlalchemy.orm import Session

from recordings_service import accounts, lockout, tokens
from recordings_service.config import Settings
from recordings_service.db import utcnow
from recordings_service.models import AuditEvent
from recordings_service.models.account import Role
from recordings_service.permissions import Permission
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from tests.factories.accounts import (
    PASSWORD,
    SYSTEM,
    csrf_token,
    fresh_code,
    login,
    login_via_form,
    make_enrolled_user,
    make_user,
    post_form,
    reloaded,
    sign_in_via_form,
    signed_in,
)
from tests.factories.audit import events
from web import access, create_app
from web import auth as web_auth
from web.ui.auth import FAILED

WRONG = "wrong password value"


# ---------------------------------------------------------------- password login


def test_password_and_code_sign_in_record_the_login_and_go_to_next(
    client: FlaskClient, session: Session, envelope: Envelope
) -> None:
    user, secret = make_enrolled_user(session, envelope)
    response = post_form(
        client, "/login", {"username": user.username.upper(), "password": PASSWORD, "next": "/account"}
    )
    assert response.headers["Location"] == "/login/mfa"
    assert not signed_in(client)  # a QA supervisor's password alone is not a login
    response = post_form(client, "/login/mfa", {"code": fresh_code(secret)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    assert signed_in(client)
    [event] = events(session, "login.succeeded")
    assert (event.actor_id, event.object_id, event.details) == (user.id, user.id, {"mfa": True})
    assert reloaded(session, user).last_login_at is not None


# Targets that browsers (which drop tabs and newlines, read "\\" as "/", and some proxies that decode "%2F")
# would take off this site; each must end on the home page instead.
OFF_SITE_TARGETS = [
    "//evil.example/",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "https://evil.example",
    "javascript:alert(1)",
    "/%2F%2Fevil.example",
    "/%2f/evil.example",
    "/%5Cevil.example",
    "/%09/evil.example",
    " //evil.example",
    "evil.example",
]


@pytest.mark.parametrize("target", OFF_SITE_TARGETS)
def test_next_must_be_a_path_on_this_site(
    client: FlaskClient, session: Session, envelope: Envelope, target: str
) -> None:
    user, secret = make_enrolled_user(session, envelope)
    response = sign_in_via_form(client, user, secret, next_path=target)
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    "query", ["next=/%09/evil.example", "next=//evil.example", "next=/%5C/evil.example", "next=/%252F%252Fevil.example"]
)
def test_a_signed_in_visit_to_login_does_not_redirect_off_site(
    client: FlaskClient, session: Session, query: str
) -> None:
    login(client, make_user(session))
    response = client.get(f"/login?{query}")
    assert (response.status_code, response.headers["Location"]) == (302, "/")


def test_next_keeps_a_path_with_its_query(client: FlaskClient, session: Session, envelope: Envelope) -> None:
    user, secret = make_enrolled_user(session, envelope)
    response = sign_in_via_form(client, user, secret, next_path="/calls/?q=x")
    assert response.headers["Location"] == "/calls/?q=x"
    assert client.get("/login?next=/calls/%3Fq%3Dx").headers["Location"] == "/calls/?q=x"


def test_wrong_password_fails_generically_and_is_audited_without_the_password(
    client: FlaskClient, session: Session
) -> None:
    user = make_user(session, password=PASSWORD)
    wrong = login_via_form(client, user.username, WRONG)
    unknown = login_via_form(client, "nobody-by-this-name", WRONG)
    assert wrong.status_code == unknown.status_code == 401
    for page in (wrong.get_data(as_text=True), unknown.get_data(as_text=True)):
        assert FAILED in page  # the same words whether or not the account exists
    # Found by exploratory testing: the form came back empty; the username typed is kept (never the password).
    assert f'name="username" value="{user.username}"' in wrong.get_data(as_text=True)
    assert WRONG not in wrong.get_data(as_text=True)
    assert not signed_in(client)
    known, stranger = events(session, "login.failed")
    assert (known.actor_id, known.actor_name, known.object_id) == (None, "anonymous", user.id)
    assert known.details == {"reason": "bad_password", "locked": False}
    assert (stranger.object_type, stranger.object_id, stranger.details["reason"]) == (None, None, "unknown_account")
    for event in (known, stranger):
        stored = repr([getattr(event, column) for column in AuditEvent.__table__.columns.keys()])  # noqa: SIM118
        assert WRONG not in stored
        assert "nobody-by-this-name" not in stored


def test_disabled_account_cannot_log_in(client: FlaskClient, session: Session) -> None:
    user = make_user(session, password=PASSWORD, active=False)
    assert login_via_form(client, user.username).status_code == 401
    assert events(session, "login.failed")[-1].details["reason"] == "disabled"


def test_eleventh_attempt_is_refused_without_checking_the_hash(
    client: FlaskClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user(session, password=PASSWORD)
    checked: list[str] = []
    real = accounts.password_matches

    def recording(password_hash: str | None, password: str) -> bool:
        checked.append(password)
        return real(password_hash, password)

    monkeypatch.setattr(accounts, "password_matches", recording)
    for _ in range(lockout.LOCKOUT_THRESHOLD):
        assert login_via_form(client, user.username, WRONG).status_code == 401
    assert len(checked) == lockout.LOCKOUT_THRESHOLD
    assert reloaded(session, user).locked_until is not None

    eleventh = login_via_form(client, user.username, PASSWORD)  # even the right password
    assert eleventh.status_code == 401
    assert len(checked) == lockout.LOCKOUT_THRESHOLD, "the locked account's hash was checked"
    assert not signed_in(client)
    failures = events(session, "login.failed")
    assert [event.details["locked"] for event in failures[-2:]] == [True, False]
    assert failures[-1].details["reason"] == "locked"


def test_lockout_ends_after_its_period_and_an_admin_reset_lifts_it(
    client: FlaskClient, session: Session, envelope: Envelope
) -> None:
    user, secret = make_enrolled_user(session, envelope)
    user.locked_until = utcnow() - lockout.LOCKOUT_PERIOD / 100
    session.flush()
    assert sign_in_via_form(client, user, secret).status_code == 302
    assert signed_in(client)
    user.locked_until = utcnow() + lockout.LOCKOUT_PERIOD
    accounts.reset_password(session, actor=SYSTEM, user_id=user.id)
    assert user.locked_until is None


def test_login_attempts_are_throttled_per_address(
    client: FlaskClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web_auth, "LOGIN_ATTEMPTS_PER_IP", parse("3/minute"))
    user = make_user(session, password=PASSWORD)
    for index in range(3):
        assert login_via_form(client, f"someone{index}", WRONG).status_code == 401
    throttled = login_via_form(client, user.username)
    assert throttled.status_code == 429
    assert not signed_in(client)


# ---------------------------------------------------------------- the session


def test_login_replaces_the_session_so_a_planted_one_is_worthless(
    client: FlaskClient, app: Flask, session: Session, envelope: Envelope
) -> None:
    user, secret = make_enrolled_user(session, envelope)
    token = csrf_token(client)
    with client.session_transaction() as planted:
        planted["planted"] = "by an attacker"
    before = client.get_cookie("session").value
    client.post("/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token})
    post_form(client, "/login/mfa", {"code": fresh_code(secret)})
    after = client.get_cookie("session").value
    assert after != before
    with client.session_transaction() as current:
        assert "planted" not in current
    assert signed_in(client)

    attacker = app.test_client()
    attacker.set_cookie("session", before)
    assert not signed_in(attacker)


def test_session_cookie_flags(settings: Settings, runtime: Runtime, session: Session, envelope: Envelope) -> None:
    user, secret = make_enrolled_user(session, envelope)
    for https in (False, True):
        client = create_app(replace(settings, https=https), runtime=runtime).test_client()
        response = sign_in_via_form(client, user, secret)
        assert response.headers["Location"] == "/"
        cookie = next(value for value in response.headers.getlist("Set-Cookie") if value.startswith("session="))
        assert "HttpOnly" in cookie
        # Strict: a link or form on another site never arrives with the session.
        assert "SameSite=Strict" in cookie
        assert ("Secure" in cookie) is https


@pytest.mark.parametrize(
    ("key", "age"),
    [
        (web_auth.SEEN_AT, web_auth.IDLE_TIMEOUT.total_seconds() + 1),
        (web_auth.LOGIN_AT, web_auth.ABSOLUTE_TIMEOUT.total_seconds() + 1),
    ],
)
def test_idle_and_absolute_timeouts_end_the_session(
    client: FlaskClient, session: Session, key: str, age: float
) -> None:
    user = make_user(session)
    login(client, user)
    with client.session_transaction() as cookie:
        cookie[key] = time.time() - age + 60  # just inside the limit
    assert signed_in(client)
    with client.session_transaction() as cookie:
        cookie[key] = time.time() - age
    assert not signed_in(client)
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_activity_keeps_the_idle_timer_fresh(client: FlaskClient, session: Session) -> None:
    login(client, make_user(session))
    with client.session_transaction() as cookie:
        cookie[web_auth.SEEN_AT] = time.time() - web_auth.IDLE_TIMEOUT.total_seconds() + 5
    assert signed_in(client)
    with client.session_transaction() as cookie:
        assert time.time() - cookie[web_auth.SEEN_AT] < 5


def test_logout_ends_every_session_of_the_account(app: Flask, session: Session) -> None:
    user = make_user(session)
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, user)
    login(phone, user)
    assert signed_in(laptop) and signed_in(phone)
    response = post_form(laptop, "/logout", {}, token_from="/account")
    assert response.status_code == 302
    assert not signed_in(laptop)
    assert not signed_in(phone)
    [event] = events(session, "logout")
    assert event.actor_id == user.id


def test_disabling_a_user_ends_their_sessions(app: Flask, session: Session) -> None:
    admin = make_user(session, role=Role.ADMIN)
    victim = make_user(session)
    admin_client, user_client = app.test_client(), app.test_client()
    login(admin_client, admin)
    login(user_client, victim)
    assert signed_in(user_client)
    response = post_form(admin_client, f"/admin/users/{victim.id}/disable", {}, token_from="/admin/users")
    assert response.status_code == 302
    assert not signed_in(user_client)
    assert events(session, "user.disabled")[-1].object_id == victim.id


# ---------------------------------------------------------------- CSRF


def test_form_post_without_csrf_token_is_refused(client: FlaskClient, app: Flask, session: Session) -> None:
    user = make_user(session, password=PASSWORD)
    assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 400
    assert not signed_in(client)
    admin = make_user(session, role=Role.ADMIN)
    login(client, admin)
    forged = client.post("/admin/users/new", data={"username": "forged", "role": "trainer", "password": PASSWORD})
    assert forged.status_code == 400
    assert accounts.find_user(session, "forged") is None
    wrong = client.post(f"/admin/users/{user.id}/disable", data={"csrf_token": "not-the-token"})
    assert wrong.status_code == 400
    assert reloaded(session, user).active


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"csrf_token=%C4&username=a&password=b", "application/x-www-form-urlencoded"),
        (
            b'--XX\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n\xc4\r\n--XX--\r\n',
            "multipart/form-data; boundary=XX",
        ),
    ],
    ids=["url-encoded", "multipart"],
)
def test_a_csrf_token_that_is_not_utf8_is_refused_as_a_wrong_one(
    client: FlaskClient, body: bytes, content_type: str
) -> None:
    """A review: forms keep the bytes sent (`form_text`, so that a field not UTF-8 is refused naming it), and the
    CSRF check, which reads its token first, could not encode one holding such a byte: a 500 for any visitor."""
    csrf_token(client, "/login")  # the session holds a token, as any visitor's of the login page does

    page = client.post("/login", data=body, content_type=content_type)

    assert page.status_code == 400 and not signed_in(client)


def test_api_calls_with_a_bearer_token_need_no_csrf_token(
    settings: Settings, runtime: Runtime, session: Session
) -> None:
    app = create_app(settings, runtime=runtime)

    @app.post("/api/v1/test-probe")
    @access.requires(Permission.RECORDING_INGEST)
    def probe() -> str:
        return "ok"

    service = make_user(session, role=Role.SERVICE)
    _, plain = tokens.create_token(session, actor=SYSTEM, user=service, scope="ingest")
    client = app.test_client()
    assert client.post("/api/v1/test-probe", headers={"Authorization": f"Bearer {plain}"}).status_code == 200
    # A browser session posting to the API is still held to CSRF.
    login(client, service)
    assert client.post("/api/v1/test-probe").status_code == 400


# ---------------------------------------------------------------- TOTP


def test_partner_without_a_valid_code_cannot_reach_the_portal(app: Flask, session: Session) -> None:
    secret = pyotp.random_base32()
    partner = make_user(session, role=Role.RESEARCH_PARTNER, password=PASSWORD, mfa_secret=secret)
    client = app.test_client()
    assert login_via_form(client, partner.username).headers["Location"] == "/login/mfa"
    assert client.get("/partner/").status_code == 302
    bad = post_form(client, "/login/mfa", {"code": "123456" if fresh_code(secret) != "123456" else "654321"})
    assert bad.status_code == 401
    assert client.get("/partner/").status_code == 302
    assert events(session, "login.failed")[-1].details["reason"] == "bad_totp"
    code = fresh_code(secret)
    assert post_form(client, "/login/mfa", {"code": code}).status_code == 302
    assert client.get("/partner/").status_code == 200

    # The same code cannot be used twice, even by someone who knows the password.
    replayer = app.test_client()
    login_via_form(replayer, partner.username)
    assert post_form(replayer, "/login/mfa", {"code": code}).status_code == 401
    assert replayer.get("/partner/").status_code == 302


def test_a_session_that_skipped_mfa_is_not_a_login(client: FlaskClient, session: Session) -> None:
    """A role that now needs MFA (say, just promoted) cannot use a session that never passed it."""
    admin = make_user(session, role=Role.ADMIN)
    login(client, admin)
    with client.session_transaction() as cookie:
        cookie[web_auth.MFA_PASSED] = False
    assert client.get("/admin/users").status_code == 302


def test_pending_mfa_expires(client: FlaskClient, session: Session) -> None:
    partner = make_user(session, role=Role.COMPLIANCE, password=PASSWORD, mfa_secret=pyotp.random_base32())
    login_via_form(client, partner.username)
    with client.session_transaction() as cookie:
        cookie["pending_login"] = {**cookie["pending_login"], "at": time.time() - 3600}
    assert client.get("/login/mfa").headers["Location"] == "/login"


# ---------------------------------------------------------------- logs


def test_logs_carry_no_passwords_tokens_or_typed_usernames(
    client: FlaskClient, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    user = make_user(session, password=PASSWORD)
    service = make_user(session, role=Role.SERVICE)
    _, plain = tokens.create_token(session, actor=SYSTEM, user=service, scope="ingest")
    login_via_form(client, "typo-username-xyz", WRONG)
    login_via_form(client, user.username, WRONG)
    login_via_form(client, user.username, PASSWORD)
    client.get("/admin/users")  # denied: audited, maybe logged
    client.get("/audit/", headers={"Authorization": f"Bearer {plain}"})
    text = caplog.text
    for secret in (PASSWORD, WRONG, plain, plain.removeprefix(tokens.TOKEN_PREFIX), "typo-username-xyz"):
        assert secret not in text
