"""The OpenAPI document and the interactive docs, served without any CDN."""

from __future__ import annotations

import re

from flask.testing import FlaskClient


def test_openapi_document_is_served(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "Callvault API"


def test_interactive_docs_load_only_local_assets(client: FlaskClient) -> None:
    page = client.get("/api/v1/docs/swagger/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, html
    for asset in assets:
        assert asset.startswith("/static/"), asset
        assert client.get(asset).status_code == 200, asset
    assert "<script>" not in html  # the CSP allows no inline script
