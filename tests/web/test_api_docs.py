"""The OpenAPI document and the interactive docs, served without any CDN."""

from __future__ import annotations

import re
from enum import Enum
from typing import Any

from flask.testing import FlaskClient
from pydantic import BaseModel


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
    assets = re.findall(r'<script src="([^"]+)"', html) + re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert "/static/vendor/swagger-ui-5.35.0/swagger-ui-bundle.js" in assets, html
    for asset in assets:
        assert asset.startswith("/static/"), asset
        assert client.get(asset).status_code == 200, asset
    # The header's links stay in the app too: nothing on the page points to another site.
    for url in re.findall(r'(?:src|href|action)="([^"]+)"', html):
        assert url.startswith(("/", "#")) and not url.startswith("//"), url
    assert "<script>" not in html  # the CSP allows no inline script


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, ops in spec["paths"].items() for method, op in ops.items()]


def test_every_operation_has_a_unique_endpoint_named_id_and_a_human_summary(client: FlaskClient) -> None:
    operations = _operations(client.get("/api/v1/openapi.json").get_json())
    assert operations
    ids = [op["operationId"] for _, _, op in operations]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    by_id = {op["operationId"]: (method, path) for method, path, op in operations}
    # Stable across path edits: Flask's endpoint name, not spectree's "get__api_v1_…" built from the path.
    assert by_id["recordings_api.get_recording"] == ("GET", "/api/v1/recordings/{recording_id}")
    for method, path, op in operations:
        summary = op["summary"].strip()
        assert summary, (method, path)
        assert not re.fullmatch(r"\S+ <[A-Z]+>", summary), (method, path, summary)  # spectree's fallback


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def test_each_schema_appears_once_and_every_reference_resolves(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    assert [name for name in schemas if name.split(".")[0] == "RecordingOut"] == ["RecordingOut"]
    assert all("." not in name for name in schemas), sorted(schemas)
    refs = _refs(spec)
    assert "#/components/schemas/RecordingOut" in refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.removeprefix("#/components/schemas/") in schemas, ref


def _own_classes(base: type) -> list[type]:
    found, todo = [], [base]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith(("web.", "recordings_service.")):
                found.append(sub)
    return found


def test_no_two_classes_share_a_schema_name(client: FlaskClient) -> None:
    # Schemas are named by class name alone, so a second class of the same name would silently take the
    # first one's place in the document.
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    for base in (BaseModel, Enum):
        names = [cls.__name__ for cls in set(_own_classes(base)) if cls.__name__ in schemas]
        assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def test_interactive_docs_keep_the_apps_header(client: FlaskClient) -> None:
    html = client.get("/api/v1/docs/swagger/").get_data(as_text=True)
    assert '<header class="top">' in html
    assert re.search(r'<a href="/"[^>]*class="brand">Callvault</a>', html), html
    assert '<nav aria-label="Main">' in html
    assert 'id="swagger-ui" data-spec-url="/api/v1/openapi.json"' in html


def test_the_document_says_how_to_authenticate_and_that_times_are_date_times(client: FlaskClient) -> None:
    """Found by exploratory testing: no security scheme (a generated client, or the docs' Authorize, could not send
    the token), and every time but one typed as a plain string."""
    spec = client.get("/api/v1/openapi.json").get_json()

    assert spec["components"]["securitySchemes"]["bearer"] | {"description": ""} == {
        "type": "http",
        "scheme": "bearer",
        "description": "",
    }
    assert spec["security"] == [{"bearer": []}]
    recording = spec["components"]["schemas"]["RecordingOut"]["properties"]
    assert recording["started_at"] == {"type": "string", "format": "date-time", "title": "Started At"}
    playback = spec["components"]["schemas"]["PlaybackOut"]["properties"]["expires_at"]
    assert playback["format"] == "date-time"


def test_the_call_lists_document_asking_by_when_a_call_was_stored(client: FlaskClient) -> None:
    """A sync job asks by `ingested_from`/`ingested_to` and keeps the `created_at` it saw (an integrator's review:
    asked by start alone, a call imported late was never exported)."""
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/recordings", "/api/v1/search"):
        parameters = {parameter["name"]: parameter for parameter in spec["paths"][path]["get"]["parameters"]}
        for name in ("ingested_from", "ingested_to"):
            assert parameters[name]["in"] == "query", (path, name)
            assert {"type": "string", "format": "date-time"} in parameters[name]["schema"]["anyOf"], (path, name)
        assert "created_at" in parameters["ingested_from"]["description"]
        assert "exclusive" in parameters["ingested_to"]["description"]
    created_at = spec["components"]["schemas"]["RecordingOut"]["properties"]["created_at"]
    assert (created_at["format"], "ingested_from" in created_at["description"]) == ("date-time", True)


def test_every_operation_declares_the_401_and_the_503_with_retry_after_that_any_request_may_get(
    client: FlaskClient,
) -> None:
    """Found by an integrator's pass: no operation declared 401 or 503, so a client generated from the document had
    no way to know that a 503 is to be sent again after `Retry-After` (the telephony system's ingest retries)."""
    spec = client.get("/api/v1/openapi.json").get_json()
    error_body = {"$ref": "#/components/schemas/ErrorBody"}
    for method, path, operation in _operations(spec):
        answers = operation["responses"]
        for status in ("401", "503"):
            assert answers[status]["content"]["application/json"]["schema"] == error_body, (method, path, status)
        assert "Retry-After" in answers["503"]["headers"], (method, path)
    assert client.get("/api/v1/recordings").get_json().keys() >= {"error", "message"}  # a real 401's body
