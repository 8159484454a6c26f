"""Small factories and login helpers shared by the tests."""

from __future__ import annotations

import re
import time
from typing import Any

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from flask_login.utils import _create_identifier
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from recordings_service import accounts, mfa
from recordings_service.audit import Actor
from recordings_service.models import User
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from web.auth import LOGIN_AT, MFA_PASSED, SEEN_AT

PASSWORD = "correct horse battery"
SYSTEM = Actor(id=None, name="system", role="system")
_counter = iter(range(1, 10**9))


def make_user(
    session: Session,
    *,
    role: str = Role.QA_SUPERVISOR,
    username: str | None = None,
    password: str | None = None,
    mfa_secret: str | None = None,
    active: bool = True,
) -> User:
    """A user row; hashing (slow by design) happens only when a password is given.

    `mfa_secret` is stored in plaintext, as before 0017 (sealed at its first use); `make_enrolled_user`
    seals it as an enrolment does.
    """
    user = User(
        username=username or f"{role}{next(_counter)}",
        role=str(role),
        password_hash=accounts.hash_password(password) if password else None,
        mfa_secret=mfa_secret,
        active=active,
    )
    session.add(user)
    session.flush()
    return user


def login(client: FlaskClient, user: User) -> None:
    """Put a fully signed-in session (MFA passed) in the client's cookie, without the login form."""
    app: Flask = client.application
    with app.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()
    with client.session_transaction() as session:
        session.clear()
        now = time.time()
        session.update(
            {
                "_user_id": user.get_id(),
                "_fresh": True,
                "_id": identifier,
                LOGIN_AT: now,
                SEEN_AT: now,
                MFA_PASSED: True,
            }
        )


def signed_in(client: FlaskClient) -> bool:
    """Whether the client's session is a login: /account answers it, and sends anyone else to sign in."""
    response = client.get("/account")
    assert response.status_code in {200, 302}
    return response.status_code == 200


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of the client's session, as a page's form carries it."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post_form(client: FlaskClient, path: str, data: dict[str, str], *, token_from: str = "/login") -> TestResponse:
    """POST a form with the session's CSRF token, as a browser would."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client, token_from)})


def login_via_form(client: FlaskClient, username: str, password: str = PASSWORD) -> TestResponse:
    """The password step alone: a person's account then owes its TOTP code (`sign_in_via_form`)."""
    return post_form(client, "/login", {"username": username, "password": password})


def sign_in_via_form(
    client: FlaskClient, user: User, secret: str, *, password: str = PASSWORD, next_path: str | None = None
) -> TestResponse:
    """Both steps of the login form: the password, then a fresh TOTP code; the last response."""
    data = {"username": user.username, "password": password, **({"next": next_path} if next_path else {})}
    response = post_form(client, "/login", data)
    if response.headers.get("Location") != "/login/mfa":
        return response
    return post_form(client, "/login/mfa", {"code": fresh_code(secret)})


def totp_now(secret: str) -> str:
    return pyotp.TOTP(secret).now()


_used_steps: dict[str, int] = {}


CODE_IN_FLIGHT_S = 5.0  # the most a code may take from here to the server's check (a browser, a loaded machine)


def fresh_code(secret: str) -> str:
    """A code the server still accepts: it takes each time step once, with one step of drift either way.

    The previous step's code is offered only while it stays good for CODE_IN_FLIGHT_S: it expires at the next
    step boundary, and a browser sign-in that crossed one was refused (401) on a loaded CI machine."""
    now = time.time()
    current = int(now) // mfa.TOTP_STEP_S
    earliest = current - 1 if now % mfa.TOTP_STEP_S < mfa.TOTP_STEP_S - CODE_IN_FLIGHT_S else current
    step = max(earliest, _used_steps.get(secret, earliest - 1) + 1)
    if step > current + 1:  # every code the server would take now is used: the next step brings one more
        time.sleep(mfa.TOTP_STEP_S - now % mfa.TOTP_STEP_S + 0.1)
        return fresh_code(secret)
    _used_steps[secret] = step
    return pyotp.TOTP(secret, interval=mfa.TOTP_STEP_S).at(step * mfa.TOTP_STEP_S)


def browser_sign_in(page: Any, username: str, secret: str, *, password: str = PASSWORD) -> None:
    """Both sign-in steps in a real browser (Playwright): the password form, then a fresh TOTP code."""
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/login/mfa" in page.url, page.url
    page.fill("#code", fresh_code(secret))
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, page.url


def browser_enrol(page: Any, link: str, *, password: str) -> str:
    """The holder opens their enrolment link, gives `password` (chosen now, or the one they have), answers with
    a code from the new seed, and is signed in; the seed they enrolled."""
    page.goto(link)
    if page.locator("#new_password").count():
        page.fill("#new_password", password)
        page.fill("#confirm_password", password)
    else:
        page.fill("#password", password)
    secret = page.locator("figcaption code").inner_text().strip()
    page.fill("#code", fresh_code(secret))
    page.click("form.stacked button[type=submit]")
    page.wait_for_load_state()
    assert "/enrol/" not in page.url, page.url
    return secret


def make_enrolled_user(
    session: Session, envelope: Envelope, *, role: str = Role.QA_SUPERVISOR, username: str | None = None
) -> tuple[User, str]:
    """A person with a password (`PASSWORD`) and a sealed TOTP seed, as after their enrolment; and the seed."""
    user = make_user(session, role=role, username=username, password=PASSWORD)
    secret = enrol_seed(user, envelope)
    session.flush()
    return user, secret


def enrol_seed(user: User, envelope: Envelope) -> str:
    """Give a flushed account a sealed TOTP seed, as its holder's enrolment would; the seed."""
    secret = pyotp.random_base32()
    user.mfa_seed = mfa.seal_seed(envelope, user, secret)
    return secret


def reloaded(session: Session, user: User) -> User:
    """The user as the database has it now (requests ran in their own sessions)."""
    session.refresh(user)
    return user


def shown_seed(client: FlaskClient, path: str) -> str:
    """The key an enrolment page (`path`) offers this client, written under its QR code."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r"<figcaption>.*?<code>([A-Z2-7]+)</code>", page)
    assert match, "no key under the QR code"
    return match.group(1)
