"""The server-rendered UI for staff and partners."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from recordings_service.health import readiness
from recordings_service.permissions import Permission
from web.access import current_can, current_principal, public
from web.database import runtime

bp = Blueprint("ui", __name__)


@bp.app_context_processor
def navigation() -> dict[str, Any]:
    """`can('audit.read')` in templates: show only the links the signed-in principal may follow."""

    def can(permission: str) -> bool:
        return current_can(Permission(permission))

    return {"can": can}


@bp.get("/")
@public
def index() -> ResponseReturnValue:
    """Staff land on the dashboard, partners on their portal; the service's status is not shown to strangers."""
    if current_principal() is None:
        return redirect(url_for("auth.login"))
    if current_can(Permission.STATUS_VIEW):
        return redirect(url_for("dashboard.index"))
    if current_can(Permission.PARTNER_PORTAL):
        return redirect(url_for("partner.index"))
    if current_can(Permission.FEEDBACK_RESPOND):
        return redirect(url_for("feedback.index"))
    ready, parts = readiness(runtime())
    return render_template("index.html", ready=ready, parts=parts)
