"""Authorization as a whole: every endpoint declares a permission, every role gets exactly what the table grants,
and API tokens are narrowed to their scope."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.routing import IntegerConverter, Rule
from werkzeug.test import TestResponse

from recordings_service import accounts, tokens
from recordings_service.config import Settings
from recordings_service.db import utcnow
from recordings_service.models import ApiToken, AuditEvent
from recordings_service.models.account import Role
from recordings_service.permissions import Permission, allowed
from recordings_service.runtime import Runtime
from tests.factories.accounts import SYSTEM, login, make_user, reloaded
from tests.factories.audit import events
from tests.routes import RULES
from web import access, create_app

DUMMY_ID = "01JZZZZZZZZZZZZZZZZZZZZZZZ"
# Path arguments that must name something real for the route to match at all.
KNOWN_ARGUMENTS = {("static", "filename"): "callvault.css"}


def request_rule(app: Flask, client_rule: Rule, client: object) -> TestResponse:
    """Call the route with dummy arguments: GET when it answers GET, else its first state-changing method."""
    arguments = {
        name: 999_999_999
        if isinstance(client_rule._converters.get(name), IntegerConverter)
        else KNOWN_ARGUMENTS.get((client_rule.endpoint, name), DUMMY_ID)
        for name in client_rule.arguments
    }
    with app.test_request_context():
        path = url_for(client_rule.endpoint, **arguments)
    methods = client_rule.methods or set()
    method = "GET" if "GET" in methods else sorted(methods - {"HEAD", "OPTIONS"})[0]
    response: TestResponse = client.open(path, method=method)  # type: ignore[attr-defined]
    # Finish streamed answers (CSV exports): an open one keeps its request's context, and `g`, alive.
    response.get_data()
    response.close()
    return response


def refused(response: TestResponse, *, signed_in: bool) -> bool:
    """Did authorization stop the request? 404 and validation errors mean it got through."""
    if signed_in:
        return response.status_code == 403
    location = response.headers.get("Location", "")
    return response.status_code == 401 or (response.status_code == 302 and location.startswith("/login?next="))


def test_every_endpoint_declares_a_permission(app: Flask) -> None:
    assert access.undeclared_endpoints(app) == []


def test_an_undeclared_endpoint_is_reported_and_refused(settings: Settings, runtime: Runtime, session: Session) -> None:
    app = create_app(settings, runtime=runtime)

    @app.get("/forgotten")
    def forgotten() -> str:
        return "should never be served"

    assert access.undeclared_endpoints(app) == ["forgotten"]
    client = app.test_client()
    assert client.get("/forgotten").status_code == 403
    login(client, make_user(session, role=Role.ADMIN))
    assert client.get("/forgotten").status_code == 403


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: f"{rule.endpoint}")
def test_each_role_gets_exactly_what_the_table_grants(rule: Rule, app: Flask, session: Session) -> None:
    app.config.update(WTF_CSRF_ENABLED=False)  # authorization, not CSRF, is under test here (restored after)
    permission = access.declared_permission(app, rule.endpoint)
    assert permission is not None

    anonymous = request_rule(app, rule, app.test_client())
    assert refused(anonymous, signed_in=False) is (permission is not Permission.PUBLIC), anonymous.status_code

    mismatches = []
    for role in Role:
        client = app.test_client()
        login(client, make_user(session, role=role))
        response = request_rule(app, rule, client)
        expected = not allowed(role=role, permission=permission)
        if refused(response, signed_in=True) is not expected:
            mismatches.append(f"{role}: {response.status_code} (refusal expected: {expected})")
    assert not mismatches, f"{rule.endpoint} needs {permission}: {mismatches}"


def test_denials_are_audited(client: FlaskClient, session: Session) -> None:
    # Through a token: the test harness nests sessions in savepoints, and a browser request's session
    # rolls back to its savepoint at teardown, taking the (separately committed) denial record with it.
    trainer = make_user(session, role=Role.TRAINER)
    _, plain = tokens.create_token(session, actor=SYSTEM, user=trainer, scope="read")
    assert client.get("/admin/users", headers=bearer(plain)).status_code == 403
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "access.denied")).one()
    assert (event.actor_id, event.details) == (trainer.id, {"endpoint": "admin.users", "method": "GET"})


# ---------------------------------------------------------------- API tokens


@pytest.fixture
def api_app(settings: Settings, runtime: Runtime) -> Flask:
    app = create_app(settings, runtime=runtime)

    @app.get("/api/v1/test-list")
    @access.requires(Permission.RECORDING_LIST)
    def listing() -> str:
        return "listed"

    @app.post("/api/v1/test-ingest")
    @access.requires(Permission.RECORDING_INGEST)
    def ingest() -> str:
        return "ingested"

    return app


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_token_is_narrowed_to_its_scope(api_app: Flask, session: Session) -> None:
    officer = make_user(session, role=Role.COMPLIANCE)
    service = make_user(session, role=Role.SERVICE)
    _, read = tokens.create_token(session, actor=SYSTEM, user=officer, scope="read")
    _, service_ingest = tokens.create_token(session, actor=SYSTEM, user=service, scope="ingest")
    # create_token refuses a scope the role shares nothing with; a token made before that rule is still
    # narrowed when used: these two are made with the roles swapped, then the roles are put back.
    officer.role, service.role = Role.SERVICE.value, Role.COMPLIANCE.value
    _, officer_ingest = tokens.create_token(session, actor=SYSTEM, user=officer, scope="ingest")
    _, service_read = tokens.create_token(session, actor=SYSTEM, user=service, scope="read")
    officer.role, service.role = Role.COMPLIANCE.value, Role.SERVICE.value
    session.flush()
    client = api_app.test_client()
    assert client.get("/api/v1/test-list", headers=bearer(read)).status_code == 200
    assert client.get("/api/v1/test-list", headers=bearer(officer_ingest)).status_code == 403  # scope lacks it
    assert client.post("/api/v1/test-ingest", headers=bearer(officer_ingest)).status_code == 403  # role lacks it
    assert client.post("/api/v1/test-ingest", headers=bearer(service_ingest)).status_code == 200
    assert client.get("/api/v1/test-list", headers=bearer(service_ingest)).status_code == 403
    assert client.get("/api/v1/test-list", headers=bearer(service_read)).status_code == 403  # a scope adds nothing
    assert client.get("/api/v1/test-list").status_code == 401


def test_expired_revoked_and_disabled_tokens_are_refused_and_use_is_recorded(api_app: Flask, session: Session) -> None:
    officer = make_user(session, role=Role.COMPLIANCE)
    live, plain = tokens.create_token(session, actor=SYSTEM, user=officer, scope="read", lifetime=timedelta(days=1))
    expired, expired_plain = tokens.create_token(session, actor=SYSTEM, user=officer, scope="read")
    expired.expires_at = utcnow() - timedelta(seconds=1)
    session.flush()
    client = api_app.test_client()
    assert live.last_used_at is None
    assert client.get("/api/v1/test-list", headers=bearer(plain)).status_code == 200
    session.refresh(live)
    assert live.last_used_at is not None
    assert client.get("/api/v1/test-list", headers=bearer(expired_plain)).status_code == 401
    assert client.get("/api/v1/test-list", headers=bearer(plain + "x")).status_code == 401

    tokens.revoke_token(session, actor=SYSTEM, token_id=live.id)
    session.flush()
    assert client.get("/api/v1/test-list", headers=bearer(plain)).status_code == 401

    _, other = tokens.create_token(session, actor=SYSTEM, user=officer, scope="read")
    accounts.disable_user(session, actor=SYSTEM, user_id=officer.id)
    session.flush()
    assert not reloaded(session, officer).active
    assert client.get("/api/v1/test-list", headers=bearer(other)).status_code == 401

    # Each refusal is audited with why, naming the token when one matched and never what was presented.
    refused = events(session, "token.refused")
    assert [(event.object_id, event.details["reason"]) for event in refused] == [
        (expired.id, "expired"),
        (None, "unknown"),
        (live.id, "revoked"),
        (
            session.scalars(select(ApiToken.id).where(ApiToken.token_hash == tokens.digest(other))).one(),
            "account_disabled",
        ),
    ]
    assert {(event.role, event.actor_id) for event in refused} == {("anonymous", None)}
    assert not any(plain in str(event.details) for event in refused)
    stale = client.get("/api/v1/test-list", headers=bearer(expired_plain))
    assert stale.json == {"error": "unauthorized", "message": "the bearer token is unknown, revoked or expired"}
    assert stale.headers["WWW-Authenticate"] == 'Bearer realm="callvault"'


def test_token_use_is_recorded_at_most_once_a_minute(session: Session) -> None:
    officer = make_user(session, role=Role.COMPLIANCE)
    token, plain = tokens.create_token(session, actor=SYSTEM, user=officer, scope="read")
    first = utcnow()
    assert tokens.authenticate_token(session, plain, now=first) is token
    assert token.last_used_at == first
    tokens.authenticate_token(session, plain, now=first + timedelta(seconds=30))
    assert token.last_used_at == first  # no write for every request of a busy client
    later = first + timedelta(minutes=2)
    tokens.authenticate_token(session, plain, now=later)
    assert token.last_used_at == later
