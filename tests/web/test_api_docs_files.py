"""The OpenAPI document describes every API route, the ones that answer with a file too.

Found by exploratory testing: the eight routes that stream a file (a recording's audio and its redacted copy, a
training clip's audio and a set's export, the research and access packages, a custody certificate, the retention
policy CSV) were missing from the document, so a generated client had no way to download anything and an integrator
reading it could not tell they exist. They are described as files of their media types, with byte ranges where
they take them, and are still streamed (tests/research/test_broken_download.py fails if the answer is read whole
before it is sent)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from recordings_service.audio.formats import FORMATS
from recordings_service.training.clips import MEDIA

# The document itself and the page that shows it.
DOCS_ROUTES = {"/api/v1/openapi.json", "/api/v1/docs/openapi.json", "/api/v1/docs/swagger/"}
BINARY = {"schema": {"type": "string", "format": "binary"}}


def _document(client: FlaskClient) -> dict[str, Any]:
    spec: dict[str, Any] = client.get("/api/v1/openapi.json").get_json()
    return spec


def test_every_api_route_and_method_is_in_the_document(app: Flask, client: FlaskClient) -> None:
    paths = _document(client)["paths"]
    documented = {(method.upper(), path) for path, operations in paths.items() for method in operations}
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.rule in DOCS_ROUTES:
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        missing += [
            (method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"}) if (method, path) not in documented
        ]
    assert missing == []


@pytest.mark.parametrize(
    ("path", "media_types", "ranges"),
    [
        ("/api/v1/recordings/{recording_id}/audio", {f.media_type for f in FORMATS.values()}, True),
        ("/api/v1/recordings/{recording_id}/audio/redacted", {f.media_type for f in FORMATS.values()}, True),
        ("/api/v1/training/clips/{clip_id}/audio", {"audio/ogg", "audio/mpeg"}, True),
        ("/api/v1/research/batches/{batch_id}/package", {"application/zip"}, True),
        ("/api/v1/subject-requests/{request_id}/package", {"application/zip"}, False),
        ("/api/v1/training/exports/{export_id}/download", {"application/zip"}, False),
        ("/api/v1/research/confirmations/{confirmation_id}/certificate", {"application/pdf"}, False),
        ("/api/v1/retention/policies.csv", {"text/csv"}, False),
    ],
)
def test_a_file_answer_is_described_as_a_file_of_its_media_types(
    client: FlaskClient, path: str, media_types: set[str], ranges: bool
) -> None:
    responses = _document(client)["paths"][path]["get"]["responses"]
    content = responses["200"]["content"]
    assert media_types <= set(content), sorted(content)
    assert all(each == BINARY for each in content.values())
    # A file route's refusals are JSON error bodies, as every other route's.
    errors = {code: answer for code, answer in responses.items() if code.startswith("4")}
    assert all(set(answer["content"]) == {"application/json"} for answer in errors.values()), errors
    if ranges:
        assert responses["206"]["content"] == content
        assert "416" in errors
    else:
        assert "206" not in responses


def test_the_documented_query_parameters_are_the_ones_the_routes_read(client: FlaskClient) -> None:
    paths = _document(client)["paths"]

    def query(path: str) -> dict[str, Any]:
        parameters = paths[path]["get"]["parameters"]
        return {p["name"]: p["schema"] for p in parameters if p["in"] == "query"}

    audio = query("/api/v1/recordings/{recording_id}/audio")
    assert set(audio) == {"download", "ticket"}
    assert set(audio["download"]["enum"]) == {"0", "1", "true", "false"}
    assert query("/api/v1/training/clips/{clip_id}/audio")["format"]["enum"] == list(MEDIA)
