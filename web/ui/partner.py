"""The research partners' portal (its landing page; batches and downloads come with the research module)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from recordings_service.permissions import Permission
from web.access import requires
from web.security_headers import no_store

bp = Blueprint("partner", __name__, url_prefix="/partner")


@bp.get("/")
@requires(Permission.PARTNER_PORTAL)
@no_store
def index() -> str:
    return render_template("partner/index.html", user=current_user)
