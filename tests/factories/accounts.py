"""Small factories and login helpers shared by the tests."""

from __future__ import annotations

import re
import time

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from flask_login.utils import _create_identifier
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from recordings_service import accounts
from recordings_service.audit import Actor
from recordings_service.models import User
from recordings_service.models.account import Role
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
    """A user row; hashing (slow by design) happens only when a password is given."""
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
    return post_form(client, "/login", {"username": username, "password": password})


def totp_now(secret: str) -> str:
    return pyotp.TOTP(secret).now()


def reloaded(session: Session, user: User) -> User:
    """The user as the database has it now (requests ran in their own sessions)."""
    session.refresh(user)
    return user
