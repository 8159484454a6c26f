"""Liveness and readiness probes for process managers and load balancers."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from recordings_service.health import readiness
from web.access import public
from web.database import runtime

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@public
def healthz() -> Response:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
@public
def readyz() -> tuple[Response, int]:
    ready, parts = readiness(runtime())
    return jsonify(parts), 200 if ready else 503
