"""Login with password and, for the roles that need it, TOTP (enrolled on first login); logout."""

from __future__ import annotations

import base64
import time
from typing import Any

import qrcode
import qrcode.image.svg
from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response

from recordings_service import accounts
from recordings_service.errors import DomainError
from recordings_service.models import User
from recordings_service.permissions import Permission
from web.access import current_actor, public, requires
from web.auth import fresh_session, login_attempt_allowed, start_session
from web.database import db
from web.links import safe_next
from web.security_headers import no_store

bp = Blueprint("auth", __name__)
LOGIN_ENDPOINT = "auth.login"
# Between the password and the TOTP step: whose password was right, since when, and where to go after.
PENDING = "pending_login"
PENDING_SECRET = "pending_mfa_secret"  # noqa: S105 — a session key, not a secret
PENDING_FOR_S = 300


def N_(message: str) -> str:
    """Mark a string for the catalogue (`make translations`); `gettext` translates it where it is shown."""
    return message


FAILED = N_("Sign-in failed: wrong username, password or code, or the account is locked or disabled.")
TOO_MANY = N_("Too many attempts; wait a minute.")


@bp.record_once
def _register(state: Any) -> None:
    state.app.extensions["callvault_login_endpoint"] = LOGIN_ENDPOINT


@bp.route("/login", methods=["GET", "POST"])
@public
@no_store
def login() -> Response | tuple[str, int] | str:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next"), url_for("ui.index")))
    if request.method == "GET":
        return render_template("auth/login.html", next=safe_next(request.args.get("next"), ""))
    next_path = safe_next(request.form.get("next"), url_for("ui.index"))
    if not login_attempt_allowed():
        return render_template("auth/login.html", error=gettext(TOO_MANY), next=next_path), 429
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    user = None
    if username and 0 < len(password) <= accounts.MAX_PASSWORD:
        user = accounts.check_password_login(db(), username=username, password=password, ip=request.remote_addr)
    db().commit()  # keep the failure count and audit record even though the login fails
    if user is None:
        return render_template("auth/login.html", error=gettext(FAILED), next=next_path), 401
    if accounts.mfa_required(user):
        fresh_session()
        session[PENDING] = {"user": user.get_id(), "at": time.time(), "next": next_path}
        return redirect(url_for("auth.mfa" if user.mfa_secret else "auth.mfa_enrol"))
    return _complete_login(user, mfa_passed=False, next_path=next_path)


@bp.route("/login/mfa", methods=["GET", "POST"])
@public
@no_store
def mfa() -> Response | tuple[str, int] | str:
    user = _pending_user()
    if user is None:
        return redirect(url_for(LOGIN_ENDPOINT))
    if user.mfa_secret is None:
        return redirect(url_for("auth.mfa_enrol"))
    if request.method == "GET":
        return render_template("auth/mfa.html")
    if not login_attempt_allowed():
        return render_template("auth/mfa.html", error=gettext(TOO_MANY)), 429
    passed = accounts.check_totp_login(db(), user=user, code=request.form.get("code", ""), ip=request.remote_addr)
    db().commit()
    if not passed:
        return render_template("auth/mfa.html", error=gettext(FAILED)), 401
    return _complete_login(user, mfa_passed=True, next_path=session[PENDING]["next"])


@bp.route("/login/mfa/enrol", methods=["GET", "POST"])
@public
@no_store
def mfa_enrol() -> Response | tuple[str, int] | str:
    user = _pending_user()
    if user is None:
        return redirect(url_for(LOGIN_ENDPOINT))
    if user.mfa_secret is not None:
        return redirect(url_for("auth.mfa"))
    # The secret waits in the signed session cookie until confirmed; the user sees it in the QR code anyway.
    secret = session.setdefault(PENDING_SECRET, accounts.new_mfa_secret())
    error = None
    if request.method == "POST":
        try:
            accounts.enrol_mfa(
                db(), user=user, secret=secret, code=request.form.get("code", ""), ip=request.remote_addr
            )
        except DomainError as exc:
            error = exc.message
        else:
            return _complete_login(user, mfa_passed=True, next_path=session[PENDING]["next"])
    uri = accounts.mfa_provisioning_uri(user, secret)
    page = render_template("auth/mfa_enrol.html", qr=_qr_data_uri(uri), secret=secret, error=error)
    return (page, 422) if error else page


@bp.get("/account")
@requires(Permission.AUTHENTICATED)
@no_store
def account() -> str:
    return render_template("auth/account.html", user=current_user)


@bp.post("/logout")
@requires(Permission.AUTHENTICATED)
def logout() -> Response:
    principal_user: User = current_user  # type: ignore[assignment]
    accounts.end_sessions(db(), actor=current_actor(), user=principal_user)
    db().commit()
    logout_user()
    fresh_session()
    return redirect(url_for(LOGIN_ENDPOINT))


def _complete_login(user: User, *, mfa_passed: bool, next_path: str) -> Response:
    accounts.record_login(db(), user=user, ip=request.remote_addr)
    db().commit()
    start_session(user, mfa_passed=mfa_passed)
    return redirect(next_path)


def _pending_user() -> User | None:
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - float(pending.get("at", 0)) > PENDING_FOR_S:
        session.pop(PENDING, None)
        session.pop(PENDING_SECRET, None)
        return None
    user_id, _, version = str(pending.get("user", "")).partition(":")
    user = db().get(User, user_id)
    if user is None or not user.active or str(user.session_version) != version:
        return None
    return user


def _qr_data_uri(uri: str) -> str:
    """The QR code as an SVG data URI: an image, since the CSP allows no inline scripts."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode()
