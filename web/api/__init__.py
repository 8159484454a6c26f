"""The JSON API under /api/v1; its OpenAPI document is generated from the handlers' schemas."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from spectree import SpecTree

from web.access import public

# Interactive docs from vendored Swagger UI (web/static/vendor): no CDN, no inline script.
SWAGGER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Callvault API</title>
<link rel="stylesheet" href="/static/vendor/swagger-ui-5.35.0/swagger-ui.css"></head>
<body><div id="swagger-ui" data-spec-url="{spec_url}"></div>
<script src="/static/vendor/swagger-ui-5.35.0/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script></body></html>"""

api_spec = SpecTree(
    "flask",
    title="Callvault API",
    version="v1",
    path="api/v1/docs",
    annotations=True,
    mode="strict",
    page_templates={"swagger": SWAGGER_PAGE},
)

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/openapi.json")
@public
def openapi() -> Response:
    return jsonify(api_spec.spec)
