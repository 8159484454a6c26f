"""The JSON API under /api/v1; its OpenAPI document is generated from the handlers' schemas."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from spectree import SpecTree

from web.access import public

api_spec = SpecTree(
    "flask",
    title="Callvault API",
    version="v1",
    path="api/v1/docs",
    annotations=True,
    mode="strict",
)

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/openapi.json")
@public
def openapi() -> Response:
    return jsonify(api_spec.spec)
