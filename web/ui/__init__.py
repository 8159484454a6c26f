"""The server-rendered UI for staff and partners."""

from __future__ import annotations

from flask import Blueprint, render_template

from recordings_service.health import readiness
from web.access import public
from web.database import runtime

bp = Blueprint("ui", __name__)


@bp.get("/")
@public
def index() -> str:
    ready, parts = readiness(runtime())
    return render_template("index.html", ready=ready, parts=parts)
