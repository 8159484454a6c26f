"""Login sessions, CSRF protection and login throttling.

A session names the user and their session version (`User.get_id()`), so bumping the version (logout,
disable, password reset, role change) ends every session of the account. Sessions also expire after
30 idle minutes and 12 hours in all, and a role that needs MFA loads only once TOTP has been passed.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from flask import Flask, current_app, request, session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, login_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from limits import RateLimitItem, parse

from recordings_service import accounts
from recordings_service.models import User
from web import i18n
from web.access import bearer_token
from web.database import db
from web.rate_storage import DatabaseStorage

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
# Per-address cap on login attempts; the per-account lockout (10 failures) is kept in the database.
LOGIN_ATTEMPTS_PER_IP: RateLimitItem = parse("30/minute")
LIMITER_EXTENSION = "callvault_login_limiter"
DEFAULT_STORAGE = DatabaseStorage.STORAGE_SCHEME[0] + "://"
# Session keys a login writes; everything else in the session is dropped at login.
LOGIN_AT, SEEN_AT, MFA_PASSED = "login_at", "seen_at", "mfa_passed"

login_manager = LoginManager()
csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    login_manager.user_loader(load_user)

    # CSRF tokens live as long as the session (which has its own limits), not a fixed hour.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)
    app.before_request(check_csrf)

    # Counted in the database by default (`web.rate_storage`), which every web worker shares.
    limiter = Limiter(
        get_remote_address, storage_uri=app.config.get("RATELIMIT_STORAGE_URI", DEFAULT_STORAGE), default_limits=[]
    )
    limiter.init_app(app)
    app.extensions[LIMITER_EXTENSION] = limiter


def check_csrf() -> None:
    """Every state-changing request carries the session's CSRF token, except API calls with a bearer token.

    A bearer token is not sent by browsers on their own, so a forged cross-site request cannot carry one.
    """
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    if request.routing_exception is not None:
        return  # no route or no such method: nothing will run, and the answer is the 404 or 405 it is
    if request.path.startswith("/api/") and bearer_token() is not None:
        return
    if request.method in current_app.config["WTF_CSRF_METHODS"]:
        try:
            csrf.protect()
        except UnicodeEncodeError:  # a token holding bytes that are not UTF-8, kept as sent (`form_text`)
            raise CSRFError("The CSRF token is invalid.") from None


def login_attempt_allowed() -> bool:
    """Count one login attempt from this address; False once it has made too many."""
    limiter: Limiter = current_app.extensions[LIMITER_EXTENSION]
    return bool(limiter.limiter.hit(LOGIN_ATTEMPTS_PER_IP, "login", get_remote_address()))


def fresh_session() -> None:
    """Empty the session, all but the chosen UI language: a preference, not a credential (see `web.i18n`)."""
    language = session.get(i18n.SESSION_KEY)
    session.clear()
    if language in i18n.LANGUAGES:
        session[i18n.SESSION_KEY] = language


def start_session(user: User, *, mfa_passed: bool) -> None:
    """Begin a login session in a fresh session: nothing from before the login carries over (fixation)."""
    fresh_session()
    login_user(user)
    now = time.time()
    session[LOGIN_AT] = now
    session[SEEN_AT] = now
    session[MFA_PASSED] = mfa_passed


def load_user(session_id: str) -> User | None:
    """The signed-in user, or None when the session has ended, expired, or still owes its second factor."""
    now = time.time()
    if _expired(session.get(LOGIN_AT), ABSOLUTE_TIMEOUT, now) or _expired(session.get(SEEN_AT), IDLE_TIMEOUT, now):
        session.clear()
        return None
    user_id, _, version = session_id.partition(":")
    user = db().get(User, user_id)
    if user is None or not user.active or str(user.session_version) != version:
        session.clear()
        return None
    if accounts.mfa_required(user) and not session.get(MFA_PASSED):
        return None
    session[SEEN_AT] = now
    return user


def _expired(started: Any, limit: timedelta, now: float) -> bool:
    return not isinstance(started, int | float) or now - started > limit.total_seconds()
