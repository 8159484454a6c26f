"""Login with password and TOTP, enrolment through the holder's one-time link, own password change, logout."""

from __future__ import annotations

import base64
import time
from typing import Any

import qrcode
import qrcode.image.svg
from flask import Blueprint, after_this_request, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response

from recordings_service import accounts, mfa, password_policy, sign_in
from recordings_service.errors import Invalid
from recordings_service.models import User
from recordings_service.permissions import Permission
from web.access import current_actor, public, requires
from web.auth import fresh_session, login_attempt_allowed, start_session
from web.database import db, runtime
from web.links import safe_next
from web.ui.error_messages import error_message

bp = Blueprint("auth", __name__)
LOGIN_ENDPOINT = "auth.login"
# Between the password and the TOTP step: whose password was right, since when, and where to go after.
PENDING = "pending_login"
PENDING_FOR_S = 300
# The seed an enrolment page offered this browser, for the account it was offered for: sealed by the master key
# (`mfa.offered_seed`), so the cookie holds no seed a reader of it could use.
OFFERED_SEED = "offered_seed"
# Where an enrolment link points; the CLI prints links to the same path under the public URL.
ENROL_PATH = "/enrol/"


def N_(message: str) -> str:
    """Mark a string for the catalogue (`make translations`); `gettext` translates it where it is shown."""
    return message


FAILED = N_("Sign-in failed: wrong username, password or code, or the account is locked or disabled.")
TOO_MANY = N_("Too many attempts; wait a minute.")
PASSWORD_CHANGED = N_("Password changed; your other sessions have ended.")


def enrolment_url(public_url: str, token: str) -> str:
    return public_url.rstrip("/") + ENROL_PATH + token


@bp.record_once
def _register(state: Any) -> None:
    state.app.extensions["callvault_login_endpoint"] = LOGIN_ENDPOINT


@bp.route("/login", methods=["GET", "POST"])
@public
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
    if username and password_policy.may_be_a_password(password):
        user = sign_in.check_password_login(db(), username=username, password=password, ip=request.remote_addr)
    db().commit()  # keep the failure count and audit record even though the login fails
    if user is None:
        return render_template("auth/login.html", error=gettext(FAILED), next=next_path, username=username[:64]), 401
    if accounts.mfa_required(user):
        fresh_session()
        session[PENDING] = {"user": user.get_id(), "at": time.time(), "next": next_path}
        return redirect(url_for("auth.mfa"))
    return _complete_login(user, mfa_passed=False, next_path=next_path)


@bp.route("/login/mfa", methods=["GET", "POST"], endpoint="mfa")
@public
def verify_code() -> Response | tuple[str, int] | str:
    user = _pending_user()
    if user is None:
        return redirect(url_for(LOGIN_ENDPOINT))
    if request.method == "GET":
        return render_template("auth/mfa.html")
    if not login_attempt_allowed():
        return render_template("auth/mfa.html", error=gettext(TOO_MANY)), 429
    code = request.form.get("code", "")
    passed = mfa.check_totp_login(db(), runtime().envelope, user=user, code=code, ip=request.remote_addr)
    db().commit()
    if not passed:
        return render_template("auth/mfa.html", error=gettext(FAILED)), 401
    return _complete_login(user, mfa_passed=True, next_path=session[PENDING]["next"])


@bp.route(ENROL_PATH + "<token>", methods=["GET", "POST"])
@public
def enrol(token: str) -> Response | tuple[str, int] | str:
    """The holder's one-time link: set a password and enrol TOTP (new account), or whichever was reset."""
    after_this_request(_send_no_referrer)
    actor = current_actor()  # anonymous, unless someone is signed in here: then the link refuses them
    user = mfa.user_for_link(db(), token=token, actor=actor)
    if request.method == "GET":
        return _enrol_page(user)
    if not login_attempt_allowed():
        return _enrol_page(user, error=gettext(TOO_MANY), status=429)
    form = request.form
    if form.get("new_password", "") != form.get("confirm_password", ""):
        return _enrol_page(user, error=gettext("The two new passwords differ."), field="new_password", status=422)
    try:
        done = mfa.complete_enrolment(
            db(),
            runtime().envelope,
            token=token,
            actor=actor,
            current_password=form.get("password", ""),
            new_password=form.get("new_password", ""),
            code=form.get("code", ""),
            offered=_sealed_offer(user),
        )
    except Invalid as exc:
        return _enrol_page(user, error=error_message(exc), field=exc.field, status=422)
    db().commit()  # a wrong password or code is counted and audited even though the enrolment fails
    if done is None:
        # Choosing a password, the holder gave no password to be wrong: the code was (or the account is locked).
        return _enrol_page(user, error=gettext(FAILED), field=None if user.password_hash else "code", status=401)
    return _complete_login(done, mfa_passed=True, next_path=url_for("ui.index"))


def _send_no_referrer(response: Response) -> Response:
    # The page's own requests (style sheet, script) would send its address, the token in it, as their Referer.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _sealed_offer(user: User) -> bytes | None:
    """The seed offered to this browser for `user`'s enrolment, sealed; None if it was offered none."""
    offer = session.get(OFFERED_SEED)
    return offer["sealed"] if isinstance(offer, dict) and offer.get("user") == user.id else None


def _enrol_page(
    user: User, *, error: str | None = None, field: str | None = None, status: int = 200
) -> tuple[str, int]:
    seed = None
    if not user.mfa_enrolled:
        # Each browser opening the link is offered a seed of its own, the same again on a reload or a refused form.
        seed, sealed = mfa.offered_seed(runtime().envelope, user, _sealed_offer(user))
        session[OFFERED_SEED] = {"user": user.id, "sealed": sealed}
    page = render_template(
        "auth/enrol.html",
        user=user,
        qr=_qr_data_uri(mfa.provisioning_uri(user, seed)) if seed else None,
        seed=seed,
        error=error,
        field=field,
    )
    return page, status


@bp.route("/account/password", methods=["GET", "POST"])
@requires(Permission.AUTHENTICATED)
def change_password() -> Response | tuple[str, int] | str:
    if request.method == "GET":
        return render_template("auth/password.html")
    if not login_attempt_allowed():
        return render_template("auth/password.html", error=gettext(TOO_MANY)), 429
    principal_user: User = current_user  # type: ignore[assignment]
    form = request.form
    if form.get("new_password", "") != form.get("confirm_password", ""):
        error = gettext("The two new passwords differ.")
        return render_template("auth/password.html", error=error, field="new_password"), 422
    try:
        changed = sign_in.change_password(
            db(),
            user=principal_user,
            current=form.get("password", ""),
            new=form.get("new_password", ""),
            ip=request.remote_addr,
        )
    except Invalid as exc:
        return render_template("auth/password.html", error=error_message(exc), field=exc.field), 422
    db().commit()
    if not changed:
        return render_template("auth/password.html", error=gettext(FAILED), field="password"), 401
    # The change ended every session of the account, this one too; the holder stays signed in here.
    start_session(principal_user, mfa_passed=accounts.mfa_required(principal_user))
    flash(gettext(PASSWORD_CHANGED))
    return redirect(url_for("auth.account"))


@bp.get("/account")
@requires(Permission.AUTHENTICATED)
def account() -> str:
    return render_template("auth/account.html", user=current_user)


@bp.post("/logout")
@requires(Permission.AUTHENTICATED)
def logout() -> Response:
    principal_user: User = current_user  # type: ignore[assignment]
    sign_in.end_sessions(db(), actor=current_actor(), user=principal_user)
    db().commit()
    logout_user()
    fresh_session()
    return redirect(url_for(LOGIN_ENDPOINT))


def _complete_login(user: User, *, mfa_passed: bool, next_path: str) -> Response:
    sign_in.record_login(db(), user=user, ip=request.remote_addr)
    db().commit()
    start_session(user, mfa_passed=mfa_passed)
    return redirect(next_path)


def _pending_user() -> User | None:
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - float(pending.get("at", 0)) > PENDING_FOR_S:
        session.pop(PENDING, None)
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
