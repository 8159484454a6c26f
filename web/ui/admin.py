"""Account administration: list, create, disable and enable users, change roles, revoke tokens, and resets.

Creating a person's account, resetting its password or its second factor, each answers with a one-time
enrolment link for the holder, shown on that response only (never in a flash message, which would ride in
the session cookie).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from recordings_service import accounts, agent_accounts, mfa, tokens
from recordings_service.audit import Actor
from recordings_service.db import utcnow
from recordings_service.errors import DomainError, Invalid
from recordings_service.models.account import Role, User
from recordings_service.permissions import Permission
from recordings_service.research.institutes import get_institute, list_institutes
from web.access import current_actor, requires
from web.database import db, runtime
from web.errors import abandon_refused
from web.ui.auth import enrolment_url
from web.ui.error_messages import error_message, flash_error
from web.ui.refused_form import RefusedForm, refusal_status, refused_form

bp = Blueprint("admin", __name__, url_prefix="/admin")
ROLES = [role.value for role in Role]
# The field of a creation refused as taken (a `Conflict`, which names none), to mark on the form.
TAKEN_FIELDS = {"username_taken": "username", "agent_ref_taken": "agent_ref"}


class UserAction(Protocol):
    def __call__(self, session: Session, *, actor: Actor, user_id: str) -> object: ...


@bp.get("/users")
@requires(Permission.USERS_MANAGE)
def users() -> str:
    now = utcnow()
    return render_template(
        "admin/users.html", users=accounts.list_users(db()), tokens=tokens.list_live_tokens(db(), now=now), now=now
    )


@bp.route("/users/new", methods=["GET", "POST"])
@requires(Permission.USERS_MANAGE)
def new_user() -> Response | str | tuple[str, int]:
    institutes = list_institutes(db())
    if request.method == "GET":
        return render_template("admin/user_new.html", roles=ROLES, institutes=institutes, leads=_leads(), form={})
    form = request.form
    role = form.get("role", "")
    asked = {
        "username": form.get("username", ""),
        "role": role,
        "display_name": form.get("display_name", ""),
        # The select keeps its value when another role is chosen: it counts for partners only.
        "institute_id": (form.get("institute_id") or None) if role == Role.RESEARCH_PARTNER else None,
        "agent_ref": (form.get("agent_ref") or None) if role == Role.AGENT else None,
        "lead_id": form.get("lead_id") or None,
    }
    try:
        user = accounts.create_user(db(), actor=current_actor(), password=None, **asked)
    except DomainError as exc:
        repeated = accounts.repeated_creation(db(), actor=current_actor(), **asked)
        if repeated is not None:  # the same form sent twice: its first answer, with the link, was never shown
            return _created(repeated)
        field = exc.field if isinstance(exc, Invalid) else TAKEN_FIELDS.get(exc.why or "")
        keys = ("username", "role", "display_name", "institute_id", "agent_ref", "lead_id")
        values = {key: form.get(key, "") for key in keys}
        page = render_template(
            "admin/user_new.html",
            roles=ROLES,
            institutes=institutes,
            leads=_leads(),
            form=values,
            error=error_message(exc),
            field=field,
        )
        return page, 422
    return _created(user)


def _created(user: User) -> Response | str:
    done = gettext("Created %(username)s.", username=user.username)
    if user.role == Role.SERVICE:
        db().commit()
        flash(done)
        return redirect(url_for("admin.user", user_id=user.id))
    return _show_link(user.id, done)


def _leads(*, keeping: str | None = None) -> list[tuple[str, str, bool]]:
    """Who can lead someone whose evaluations may be disputed: the active QA supervisors, as (id, username, active).

    A disabled one is refused as a new lead, so is offered only as `keeping`, the lead already set: left out, the
    form would show "none" and saving it would drop that lead unasked.
    """
    return [
        (user.id, user.username, user.active)
        for user in accounts.list_users(db())
        if user.role == Role.QA_SUPERVISOR and (user.active or user.id == keeping)
    ]


@bp.get("/users/<user_id>")
@requires(Permission.USERS_MANAGE)
def user(user_id: str) -> str:
    return _user_page(user_id)


def _user_page(user_id: str, *, refused: RefusedForm | None = None) -> str:
    """The account's page; with `refused`, one of its forms sent back as typed, with the reason beside it."""
    account = accounts.get_user(db(), user_id)
    return render_template(
        "admin/user.html",
        user=account,
        refused=refused,
        institute=get_institute(db(), account.institute_id) if account.institute_id else None,
        roles=ROLES,
        tokens=tokens.list_tokens(db(), user_id=user_id),
        now=utcnow(),
        leads=[lead for lead in _leads(keeping=account.lead_id) if lead[0] != account.id],
    )


@bp.post("/users/<user_id>/lead")
@requires(Permission.USERS_MANAGE)
def set_lead(user_id: str) -> Response | tuple[str, int]:
    """Name the person's lead; a choice refused (not an active QA supervisor, the person themselves) comes back as the
    account page with the lead form marked and 422, as its other forms do (it was a redirect with a flashed line)."""
    try:
        accounts.set_lead(db(), actor=current_actor(), user_id=user_id, lead_id=request.form.get("lead_id") or None)
    except Invalid as exc:
        db().rollback()
        return _user_page(user_id, refused=_refused("lead", exc)), refusal_status(exc)
    db().commit()
    flash(gettext("Lead saved."))
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<user_id>/agent-ref")
@requires(Permission.USERS_MANAGE)
def change_agent_ref(user_id: str) -> Response | tuple[str, int]:
    """Correct the agent an agent account is (a ref given to the wrong account); its sessions end."""
    try:
        agent_accounts.change_agent_ref(
            db(), actor=current_actor(), user_id=user_id, agent_ref=request.form.get("agent_ref", "")
        )
    except DomainError as exc:
        return _user_page(user_id, refused=_refused("agent_ref", exc)), refusal_status(exc)
    db().commit()
    flash(gettext("Agent ref saved; the account's sessions ended."))
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<user_id>/disable")
@requires(Permission.USERS_MANAGE)
def disable(user_id: str) -> Response:
    if not accounts.get_user(db(), user_id).active:  # a second click, or a page left open: nothing to do
        flash(gettext("No change: the account is already disabled."))
        return redirect(url_for("admin.user", user_id=user_id))
    return _act(user_id, gettext("Account disabled; its sessions have ended."), accounts.disable_user)


@bp.post("/users/<user_id>/enable")
@requires(Permission.USERS_MANAGE)
def enable(user_id: str) -> Response:
    """Enable a disabled account, or lift the lockout of an active one after failed sign-ins."""
    accounts.get_user(db(), user_id)  # an unknown account is a 404, not a message
    # Said after the fact: the lockout the page showed may have run out (or been lifted) before the click.
    try:
        done = accounts.enable_user(db(), runtime().envelope, actor=current_actor(), user_id=user_id)
    except DomainError as exc:  # its second factor sealed under a master key since lost: said on the account's page
        abandon_refused(exc)
        flash_error(exc)
        return redirect(url_for("admin.user", user_id=user_id))
    db().commit()
    flash(_enable_outcome(done))
    return redirect(url_for("admin.user", user_id=user_id))


def _enable_outcome(done: accounts.Enabling) -> str:
    if done is accounts.Enabling.ENABLED:
        return gettext("Account enabled.")
    if done is accounts.Enabling.UNLOCKED:
        return gettext("Lockout lifted; the account can sign in again.")
    return gettext("No change: the account is active and was not locked.")


@bp.post("/users/<user_id>/password")
@requires(Permission.USERS_MANAGE)
def reset_password(user_id: str) -> Response | str:
    """The old password stops working and the account's sessions end; the holder sets a new one at the link."""
    return _reset(user_id, gettext("Password reset; the account's sessions have ended."), accounts.reset_password)


@bp.post("/users/<user_id>/mfa")
@requires(Permission.USERS_MANAGE)
def reset_mfa(user_id: str) -> Response | str:
    return _reset(user_id, gettext("Two-factor sign-in reset; the account's sessions have ended."), mfa.reset_mfa)


@bp.post("/users/<user_id>/enrolment-link")
@requires(Permission.USERS_MANAGE)
def enrolment_link(user_id: str) -> Response | str:
    """A new link (when the last one expired or was lost); any earlier link stops working."""
    accounts.get_user(db(), user_id)  # an unknown account is a 404, not a message
    return _show_link(user_id, gettext("New enrolment link issued."))


@bp.post("/users/<user_id>/role")
@requires(Permission.USERS_MANAGE)
def change_role(user_id: str) -> Response | tuple[str, int]:
    role = request.form.get("role", "")
    # The form offers the current role first: sent as it is, nothing changes and no session ends.
    unchanged = accounts.get_user(db(), user_id).role == role
    try:
        accounts.change_role(db(), actor=current_actor(), user_id=user_id, role=role)
    except DomainError as exc:  # the role chosen stays chosen, with the reason beside it
        return _user_page(user_id, refused=_refused("role", exc)), refusal_status(exc)
    db().commit()
    if unchanged:
        flash(gettext("No change: the account already has that role."))
    else:
        flash(gettext("Role changed; the account's sessions have ended."))
    return redirect(url_for("admin.user", user_id=user_id))


def _refused(form: str, exc: DomainError) -> RefusedForm:
    """The form of the account page sent back; a ref taken (a `Conflict`, which names no field) marks its field."""
    refused = refused_form(form, exc)
    return replace(refused, field=refused.field or TAKEN_FIELDS.get(exc.why or ""))


@bp.post("/users/<user_id>/tokens/<token_id>/revoke")
@requires(Permission.USERS_MANAGE)
def revoke_token(user_id: str, token_id: str) -> Response:
    tokens.revoke_token(db(), actor=current_actor(), token_id=token_id, user_id=user_id)
    db().commit()
    flash(gettext("Token revoked."))
    return redirect(url_for("admin.user", user_id=user_id))


def _reset(user_id: str, done: str, action: UserAction) -> Response | str:
    """Run a reset, issue the holder's enrolment link in the same transaction, and show the link once (a disabled
    account's once it is enabled)."""
    accounts.get_user(db(), user_id)  # an unknown account is a 404, not a message
    try:
        action(db(), actor=current_actor(), user_id=user_id)
    except DomainError as exc:
        abandon_refused(exc)
        flash_error(exc)
        return redirect(url_for("admin.user", user_id=user_id))
    if not accounts.get_user(db(), user_id).active:
        # A disabled account gets no link, and was refused the reset with it: a second factor sealed under a master
        # key since lost could then be reset nowhere, while enabling the account is refused until it is.
        db().commit()
        flash(" ".join((done, gettext("The account is disabled: enable it, then issue a new enrolment link."))))
        return redirect(url_for("admin.user", user_id=user_id))
    return _show_link(user_id, done)


def _show_link(user_id: str, done: str) -> Response | str:
    try:
        token = mfa.issue_enrolment_link(db(), runtime().envelope, actor=current_actor(), user_id=user_id)
    except DomainError as exc:
        db().rollback()
        flash_error(exc)
        return redirect(url_for("admin.user", user_id=user_id))
    db().commit()
    # CALLVAULT_PUBLIC_URL, as the CLI's link: built from this request's address, the link named whatever host the
    # admin reached the service by (an internal address, a port behind the proxy), which the holder may not reach.
    link = enrolment_url(runtime().settings.public_url, token)
    return render_template("admin/enrolment_link.html", user=accounts.get_user(db(), user_id), link=link, done=done)


def _act(user_id: str, done: str, action: UserAction) -> Response:
    """Run one account change, commit, and come back to the account page with the outcome."""
    accounts.get_user(db(), user_id)  # an unknown account is a 404, not a message
    try:
        action(db(), actor=current_actor(), user_id=user_id)
    except DomainError as exc:
        db().rollback()
        flash_error(exc)
    else:
        db().commit()
        flash(done)
    return redirect(url_for("admin.user", user_id=user_id))
