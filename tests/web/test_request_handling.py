"""Request handling: body size limits, nothing read before sign-in, X-Forwarded-For only from trusted proxies."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from limits import parse
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import EnvironBuilder, run_wsgi_app

from recordings_service.config import Settings
from recordings_service.db import key_cursor
from recordings_service.models import AuditEvent, SubjectRequest, User
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.accounts import csrf_token
from tests.factories.recordings import call_metadata, make_token, post_ingest
from web import auth as web_auth
from web import create_app

CAP = 4096
FORWARDED = "203.0.113.7"
FORM = "application/x-www-form-urlencoded"


def app_with(settings: Settings, runtime: Runtime, **changes: Any) -> Flask:
    changed = replace(settings, **changes)
    app = create_app(changed, runtime=replace(runtime, settings=changed))
    app.config.update(TESTING=True)
    return app


class WatchedBody(io.BytesIO):
    """A request body that counts what was read of it."""

    bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk

    def readinto(self, buffer: Any) -> int:
        count = super().readinto(buffer)
        self.bytes_read += count
        return count

    def readline(self, size: int | None = -1) -> bytes:
        line = super().readline(size)
        self.bytes_read += len(line)
        return line


def call(
    app: Flask,
    path: str,
    body: io.BytesIO,
    *,
    chunked: bool = False,
    content_type: str = FORM,
    headers: dict[str, str] | None = None,
) -> tuple[str, bytes]:
    """Run one request through the WSGI app; `chunked` passes the body on as a server does one of unannounced length."""
    environ = EnvironBuilder(
        path=path, method="POST", input_stream=body, content_type=content_type, headers=headers
    ).get_environ()
    if chunked:
        del environ["CONTENT_LENGTH"]
        environ["wsgi.input_terminated"] = True
    chunks, status, _headers = run_wsgi_app(app, environ, buffered=True)
    return status, b"".join(chunks)


# ---------------------------------------------------------------- size limits


def test_an_announced_body_over_the_limit_is_413_before_anything_reads_it(settings: Settings, runtime: Runtime) -> None:
    app = app_with(settings, runtime, max_request_bytes=CAP)
    api_body = WatchedBody(b"{" + b" " * CAP + b"}")
    status, raw = call(app, "/api/v1/research/institutes", api_body, content_type="application/json")
    assert status.startswith("413 ") and api_body.bytes_read == 0
    assert app.json.loads(raw) == {
        "error": "too_large",
        "message": f"the request body exceeds the limit of {CAP} bytes",
        "field": "body",
    }
    page_body = WatchedBody(b"username=a&password=" + b"x" * CAP)
    status, raw = call(app, "/login", page_body)
    assert status.startswith("413 ") and page_body.bytes_read == 0
    assert b"<html" in raw.lower()


def test_a_streamed_body_is_read_no_further_than_the_limit(settings: Settings, runtime: Runtime) -> None:
    app = app_with(settings, runtime, max_request_bytes=CAP)
    body = WatchedBody(b"username=a&password=" + b"x" * (16 * CAP))
    status, _ = call(app, "/login", body, chunked=True)
    # Found by exploratory testing: Werkzeug stopped at the limit and the form arrived cut short (a 400 for its
    # missing CSRF token); one byte past the limit is a 413 now, as an announced length over it is.
    assert status.startswith("413 ") and body.bytes_read <= CAP + 1


@pytest.mark.parametrize("padding", [0, 1, 16 * CAP])
def test_a_streamed_json_body_past_the_limit_is_refused_not_cut_short_and_acted_on(
    settings: Settings, runtime: Runtime, session: Session, padding: int
) -> None:
    app = app_with(settings, runtime, max_request_bytes=CAP)
    token = make_token(session, role=Role.COMPLIANCE, scope="compliance")
    request = b'{"customer_ref": "CRM-CHUNKED-1", "kind": "access", "received_at": "2026-12-01T09:00:00+02:00"}'
    body = request + b" " * (CAP - len(request) + padding)  # JSON still: spaces after the object
    status, raw = call(
        app,
        "/api/v1/subject-requests",
        WatchedBody(body),
        chunked=True,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    registered = session.scalar(select(func.count()).select_from(SubjectRequest)) or 0
    if padding == 0:  # exactly the limit
        assert status.startswith("201 "), raw
        assert registered == 1
    else:
        assert status.startswith("413 ") and json.loads(raw)["field"] == "body"
        assert registered == 0


def test_ingest_keeps_its_own_larger_limit(settings: Settings, runtime: Runtime, session: Session) -> None:
    app = app_with(settings, runtime, max_request_bytes=CAP)
    response = post_ingest(app.test_client(), make_token(session), call_metadata())
    assert response.status_code == 201, response.get_json()


# ---------------------------------------------------------------- sign-in before the body


@pytest.mark.parametrize(
    ("path", "status"),
    [("/api/v1/research/institutes", "401 "), ("/compliance/holds", "302 ")],
)
def test_an_anonymous_post_is_answered_without_reading_its_body(app: Flask, path: str, status: str) -> None:
    body = WatchedBody(b"reason=x&csrf_token=forged")
    answered, _ = call(app, path, body)
    assert answered.startswith(status) and body.bytes_read == 0


# ---------------------------------------------------------------- proxies


def _failed_login_from(app: Flask, session: Session) -> tuple[int, str | None]:
    """Fail a login behind `X-Forwarded-For: FORWARDED`; the answer's status and the address audited."""
    client = app.test_client()
    data = {"username": "nobody-here", "password": "wrong password value", "csrf_token": csrf_token(client)}
    response = client.post("/login", data=data, headers={"X-Forwarded-For": FORWARDED})
    failures = select(AuditEvent).where(AuditEvent.action == "login.failed").order_by(AuditEvent.seq.desc())
    return response.status_code, session.scalars(failures.limit(1)).one().ip


@pytest.mark.parametrize(("trusted", "seen_ip"), [(0, "127.0.0.1"), (1, FORWARDED)])
def test_forwarded_for_is_believed_only_from_trusted_proxies(
    settings: Settings, runtime: Runtime, session: Session, trusted: int, seen_ip: str
) -> None:
    app = app_with(settings, runtime, trusted_proxies=trusted)
    assert _failed_login_from(app, session) == (401, seen_ip)


def test_login_throttling_counts_the_connecting_address_by_default(
    settings: Settings, runtime: Runtime, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web_auth, "LOGIN_ATTEMPTS_PER_IP", parse("2/minute"))
    app = app_with(settings, runtime)
    client = app.test_client()
    statuses = []
    for forwarded in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        data = {"username": "nobody-here", "password": "wrong password value", "csrf_token": csrf_token(client)}
        statuses.append(client.post("/login", data=data, headers={"X-Forwarded-For": forwarded}).status_code)
    assert statuses == [401, 401, 429]


def test_a_form_encoded_body_to_a_json_operation_is_415_not_a_crash(app: Flask, session: Session) -> None:
    """Found by the Schemathesis run: spectree skipped the body and the handler failed on None (a 500)."""
    token = make_token(session, role="compliance", scope="compliance")
    response = app.test_client().post(
        "/api/v1/legal-holds",
        data={"customer_ref": "cust-1", "reason": "dispute"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 415
    assert response.is_json and response.json is not None and "application/json" in response.json["message"]


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        pytest.param("[" * 5000 + "]" * 5000, "application/json", 422, id="nested-deeper-than-the-parser"),
        pytest.param("not json", "application/json", 422, id="not-json"),
        pytest.param('["dispute"]', "application/json", 422, id="an-array"),
        pytest.param('{"customer_ref": "cust-1", "reason": "dispute"}', "text/plain", 415, id="not-labelled-json"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused_naming_it(
    app: Flask, session: Session, body: str, content_type: str, status: int
) -> None:
    """Found by exploratory testing: spectree read such a body as `{}` (a deeply nested one crashed it, a 500),
    so an operation whose fields are all optional went ahead as if nothing had been sent."""
    token = make_token(session, role="compliance", scope="compliance")
    response = app.test_client().post(
        "/api/v1/legal-holds", data=body, content_type=content_type, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json and response.json is not None
    if status == 422:
        assert (response.json["error"], response.json["field"]) == ("invalid_json", "body")


def test_an_operation_without_required_fields_still_takes_an_empty_body(app: Flask, session: Session) -> None:
    token = make_token(session, role="compliance", scope="compliance")
    response = app.test_client().post("/api/v1/legal-holds", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422
    assert response.json is not None and response.json["field"] in {"reason", "customer_ref", "recording_id"}


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_the_bearer_scheme_is_case_insensitive(app: Flask, session: Session, scheme: str) -> None:
    """Found by exploratory testing: `bearer <token>` was a 401 (RFC 9110 makes the scheme case-insensitive)."""
    token = make_token(session, role="compliance", scope="compliance")
    response = app.test_client().get("/api/v1/legal-holds", headers={"Authorization": f"{scheme} {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)


@pytest.mark.parametrize("authorization", [None, "Bearer ", "Bearer not-a-token", "Basic dXNlcjpwYXNz"])
def test_an_api_401_names_the_bearer_scheme(app: Flask, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = app.test_client().get("/api/v1/legal-holds", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="callvault"'
    assert response.is_json and response.json is not None and response.json["error"] == "unauthorized"


@pytest.mark.parametrize(
    ("path", "role", "scope"),
    [
        ("/api/v1/legal-holds", "compliance", "compliance"),
        ("/api/v1/subject-requests", "compliance", "compliance"),
        ("/api/v1/retention/receipts", "compliance", "compliance"),
        ("/api/v1/research/batches", "compliance", "research"),
        ("/api/v1/training/clips", "trainer", "training"),
        ("/api/v1/training/sets", "trainer", "training"),
        ("/api/v1/training/nominations", "trainer", "training"),
        ("/api/v1/calibration-sessions", "qa_supervisor", "evaluation"),
    ],
)
def test_a_cursor_no_page_handed_out_is_422_naming_it(
    app: Flask, session: Session, path: str, role: str, scope: str
) -> None:
    """Found by exploratory testing: a made-up cursor was compared with ids as it was, and paged from wherever it
    happened to sort (`garbage` sorts after every id: the first page again)."""
    token = make_token(session, role=role, scope=scope)
    client = app.test_client()
    listed = client.get(path, headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200, listed.get_data(as_text=True)
    refused = client.get(f"{path}?cursor=garbage", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 422, refused.get_data(as_text=True)
    assert refused.json is not None and (refused.json["error"], refused.json["field"]) == ("invalid_cursor", "cursor")


FAR_ID = "01JZZZZZZZZZZZZZZZZZZZZZZZ"


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-23:59"])
@pytest.mark.parametrize(
    ("path", "role", "scope", "key"),
    [
        ("/api/v1/recordings", "qa_supervisor", "read", ()),
        ("/api/v1/search", "qa_supervisor", "read", ()),
        ("/api/v1/subject-requests?open=true", "compliance", "compliance", ()),
        ("/api/v1/assignments", "qa_supervisor", "evaluation", ("2026-12-01",)),
    ],
)
def test_a_cursor_naming_a_moment_beyond_utcs_years_is_422_naming_it(
    app: Flask, session: Session, path: str, role: str, scope: str, key: tuple[str, ...], moment: str
) -> None:
    """Found by fuzzing the API: a cursor is easily made, and one naming year 1 at +01:00 (year 0 in UTC) passed as
    a moment, then overflowed when bound to the query: a 500 on SQLite and PostgreSQL alike."""
    token = make_token(session, role=role, scope=scope)
    cursor = key_cursor(*key, moment, FAR_ID)
    joiner = "&" if "?" in path else "?"
    refused = app.test_client().get(f"{path}{joiner}cursor={cursor}", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 422, refused.get_data(as_text=True)
    assert refused.json is not None and (refused.json["error"], refused.json["field"]) == ("invalid_cursor", "cursor")


def test_a_refusal_for_the_tokens_scope_names_the_scope_that_would_do(app: Flask, session: Session) -> None:
    """Found by exploratory testing: a compliance officer's compliance token on a research route was told that
    their role does not permit it, which it does."""
    client = app.test_client()
    compliance = make_token(session, role="compliance", scope="compliance")
    wrong_scope = client.get("/api/v1/research/batches", headers={"Authorization": f"Bearer {compliance}"})
    assert wrong_scope.status_code == 403
    assert wrong_scope.json is not None and wrong_scope.json["message"] == (
        "this token's scope (compliance) does not permit this; a token of scope research does"
    )
    trainer = make_token(session, role="trainer", scope="training")
    wrong_role = client.get("/api/v1/research/batches", headers={"Authorization": f"Bearer {trainer}"})
    assert wrong_role.status_code == 403
    assert wrong_role.json is not None and wrong_role.json["message"] == "your role does not permit this"
    # Where no scope would do (a call's transcription is requeued by a signed-in person), it says so: it read
    # "a token of scope  does", naming nothing.
    supervisor = make_token(session, role="qa_supervisor", scope="read")
    requeue = client.post("/api/v1/recordings/01ANY/transcribe", headers={"Authorization": f"Bearer {supervisor}"})
    assert requeue.status_code == 403 and requeue.json is not None
    assert requeue.json["message"] == (
        "this token's scope (read) does not permit this, nor does any token: sign in to do it"
    )


@pytest.mark.parametrize(
    "body",
    [
        pytest.param('{"name": "Sales", "calls_per_agent": NaN}', id="NaN"),
        pytest.param('{"name": "Sales", "calls_per_agent": Infinity}', id="Infinity"),
        pytest.param('{"name": "Sales", "calls_per_agent": -Infinity}', id="minus-Infinity"),
        pytest.param('{"name": "Sales", "calls_per_agent": 1e400}', id="beyond-a-float"),
    ],
)
def test_a_number_json_does_not_have_is_refused_as_not_json(app: Flask, session: Session, body: str) -> None:
    """Found by exploratory testing: Python's parser reads NaN and Infinity, which RFC 8259 JSON has no
    tokens for, and 1e400 as infinity; a float field then took them (`max_duration_s: Infinity`)."""
    token = make_token(session, role="qa_supervisor", scope="evaluation")
    response = app.test_client().post(
        "/api/v1/evaluation-plans",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.json is not None
    assert (response.json["error"], response.json["field"]) == ("invalid_json", "body")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("calls_per_agent", "3", id="a-string-for-an-integer"),
        pytest.param("calls_per_agent", True, id="true-for-an-integer"),
        pytest.param("active", "yes", id="a-string-for-a-boolean"),
        pytest.param("active", 0, id="a-number-for-a-boolean"),
        pytest.param("seed", 7.0, id="a-float-for-an-integer"),
    ],
)
def test_a_field_takes_only_its_own_json_type(app: Flask, session: Session, field: str, value: Any) -> None:
    """Found by exploratory testing: the API read bodies leniently, so `"research": "yes"` recorded an
    objection and `"start_s": true` was one second. A field of the wrong JSON type is refused, naming it."""
    token = make_token(session, role="qa_supervisor", scope="evaluation")
    supervisor = session.scalars(select(User).where(User.role == "qa_supervisor")).first()
    assert supervisor is not None
    plan = {
        "name": "Sales",
        "queue": "sales",
        "calls_per_agent": 2,
        "supervisor_ids": [supervisor.id],
        "seed": 5,
        "active": True,
    }
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    created = client.post("/api/v1/evaluation-plans", json=plan, headers=headers)
    assert created.status_code == 201, created.get_data(as_text=True)
    response = client.post("/api/v1/evaluation-plans", json={**plan, field: value}, headers=headers)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.json is not None and response.json["field"] == field
