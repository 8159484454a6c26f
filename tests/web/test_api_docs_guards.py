"""The OpenAPI document declares what the guards in front of every handler answer, and the headers a route reads.

Found by integrators generating clients from the document: no 403 where a role or a token's scope is refused (a
trainer's `customer_ref` filter, a `read` token on the legal holds), no 408 for a body that stops before its end (a
slow upload, to be sent again), no 413 for a JSON body over the limit, the ingest's `Content-MD5` and
`X-Checksum-SHA256` and the downloads' `Range` and `If-Range` undeclared, and a 422 typed as spectree's validation
error on routes whose 422 is the API's own error body."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.permissions import TOKEN_SCOPES, Permission, allowed
from tests.factories.recordings import make_token
from tests.factories.training import bearer
from web.access import declared_permission

ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}
API_SOURCES = Path(__file__).parents[2] / "web" / "api"


@pytest.fixture
def spec(client: FlaskClient) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/api/v1/openapi.json").get_json()
    return document


def _operations(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {op["operationId"]: op for ops in spec["paths"].values() for op in ops.values()}


def _error_answer(operation: dict[str, Any], status: str) -> dict[str, Any]:
    answer: dict[str, Any] = operation["responses"].get(status, {})
    assert answer.get("content", {}).get("application/json", {}).get("schema") == ERROR_BODY, (
        operation["operationId"],
        status,
        answer,
    )
    return answer


def _refused_to_someone(permission: Permission) -> bool:
    return any(
        not allowed(role=role, permission=permission, scope=scope) for role in Role for scope in (None, *TOKEN_SCOPES)
    )


def test_every_operation_whose_permission_some_role_or_scope_lacks_declares_the_403(
    app: Flask, spec: dict[str, Any]
) -> None:
    guarded = 0
    for endpoint, operation in _operations(spec).items():
        permission = declared_permission(app, endpoint)
        assert permission is not None, endpoint
        if permission is not Permission.PUBLIC and _refused_to_someone(permission):
            guarded += 1
            assert permission.value in _error_answer(operation, "403")["description"], endpoint
    assert guarded > 80  # every operation of the API is guarded


def test_the_403s_declared_are_what_a_refused_role_and_a_refused_scope_get(
    client: FlaskClient, session: Session, spec: dict[str, Any]
) -> None:
    operations = _operations(spec)
    trainer = bearer(make_token(session, role="trainer", scope="read"))
    for path, endpoint in (
        ("/api/v1/recordings", "recordings_api.list_recordings"),
        ("/api/v1/search", "search_api.search_calls"),
    ):
        refused = client.get(f"{path}?customer_ref=CRM-1", headers=trainer)
        assert (refused.status_code, refused.get_json()["error"]) == (403, "forbidden"), refused.get_json()
        assert "recording.list" in _error_answer(operations[endpoint], "403")["description"]
    read_token = bearer(make_token(session, role="compliance", scope="read"))
    refused = client.get("/api/v1/legal-holds", headers=read_token)
    assert refused.status_code == 403 and "scope" in refused.get_json()["message"]
    assert "token scopes compliance" in _error_answer(operations["retention_api.list_holds"], "403")["description"]


def test_every_error_answer_is_the_error_body(client: FlaskClient, session: Session, spec: dict[str, Any]) -> None:
    """Spectree typed the 422 of a route without a query or body model as its own validation error, which such a
    route never sends: its 422 (a NUL in a query parameter) is the API's error body."""
    for endpoint, operation in _operations(spec).items():
        for status in operation["responses"]:
            if status.startswith(("4", "5")):
                _error_answer(operation, status)
        assert endpoint
    token = bearer(make_token(session, role="compliance", scope="read"))
    refused = client.get("/api/v1/recordings/01ARZ3NDEKTSV4RRFFQ69G5FAV?x=%00", headers=token)
    assert refused.status_code == 422 and refused.get_json().keys() >= {"error", "message"}


def test_every_operation_taking_a_body_declares_the_408_and_the_413(spec: dict[str, Any]) -> None:
    with_body = [operation for operation in _operations(spec).values() if "requestBody" in operation]
    assert len(with_body) > 30
    for operation in with_body:
        assert "request_timeout" in _error_answer(operation, "408")["description"]
        _error_answer(operation, "413")


@pytest.mark.parametrize(
    ("path", "role", "scope", "content_type", "start"),
    [
        ("/api/v1/legal-holds", "compliance", "compliance", "application/json", b'{"recording_id": "01'),
        ("/api/v1/recordings", "service", "ingest", "multipart/form-data; boundary=b", b"--b\r\nContent-Disposition"),
    ],
)
def test_a_body_that_stops_short_is_the_408_declared_and_one_over_the_limit_the_413(
    client: FlaskClient, session: Session, path: str, role: str, scope: str, content_type: str, start: bytes
) -> None:
    headers = bearer(make_token(session, role=role, scope=scope)) | {"Content-Type": content_type}
    # Announced lengths the test client would otherwise count from the bytes given.
    stopped = client.post(path, headers=headers, data=start, environ_overrides={"CONTENT_LENGTH": "4096"})
    assert (stopped.status_code, stopped.get_json()["error"]) == (408, "request_timeout"), stopped.get_data()
    too_large = client.post(path, headers=headers, data=start, environ_overrides={"CONTENT_LENGTH": str(2**40)})
    assert (too_large.status_code, too_large.get_json()["error"]) == (413, "too_large"), too_large.get_data()


def _headers_read_by_the_api() -> set[str]:
    """The request headers the API's modules read by name (the guards' `Authorization` is the security scheme)."""
    reads = re.compile(r'request\.headers\.get\("([^"]+)"|"([^"]+)" in request\.headers|request\.headers\["([^"]+)"\]')
    found = set()
    for module in API_SOURCES.glob("*.py"):
        for match in reads.finditer(module.read_text()):
            found.add(next(name for name in match.groups() if name))
    return found


def _header_parameters(operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {each["name"]: each for each in operation.get("parameters", []) if each["in"] == "header"}


def test_every_header_the_api_reads_is_declared_where_it_is_read(spec: dict[str, Any]) -> None:
    read = _headers_read_by_the_api()
    assert read >= {"Content-MD5", "X-Checksum-SHA256", "Range", "If-Range"}, read
    operations = _operations(spec)
    declared = {name for operation in operations.values() for name in _header_parameters(operation)}
    assert read <= declared, read - declared
    checksums = _header_parameters(operations["recordings_api.ingest_recording"])
    for name in ("Content-MD5", "X-Checksum-SHA256"):
        assert checksums[name]["schema"]["type"] == "string" and not checksums[name]["required"], checksums[name]
        assert "checksum_mismatch" in checksums[name]["description"]
    ranged = [operation for operation in operations.values() if "206" in operation["responses"]]
    assert len(ranged) == 4
    for operation in ranged:
        assert _header_parameters(operation).keys() == {"Range", "If-Range"}, operation["operationId"]
        assert {"ETag", "Content-Range"} <= operation["responses"]["206"]["headers"].keys()
        assert "ETag" in operation["responses"]["200"]["headers"]
