"""Property-based run of Schemathesis over the whole OpenAPI document, once with a token of every scope.

Every operation gets generated requests (valid and invalid bodies, parameters and paths) sent to the
real app in-process (SQLite, the real object store). No response may be a server error, and each
response with a documented status must match its documented schema. Derandomised and bounded, so CI
runs the same examples each time in a minute or two; a failure prints the request that caused it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance
from sqlalchemy.orm import Session

from recordings_service.config import Settings
from recordings_service.models.account import Role
from recordings_service.permissions import ROLE_PERMISSIONS, TOKEN_SCOPES, Permission
from recordings_service.storage.encryption import generate_master_key
from recordings_service.tokens import create_token
from tests.factories.accounts import SYSTEM
from tests.factories.recordings import make_token
from tests.factories.research import institute, partner
from web import create_app
from web.access import declared_permission

# The role whose token each scope is given to: the role that scope exists for.
SCOPE_ROLES = {
    "ingest": Role.SERVICE,
    "read": Role.QA_SUPERVISOR,
    "partner": Role.RESEARCH_PARTNER,
    "compliance": Role.COMPLIANCE,
    "audit": Role.COMPLIANCE,
    "research": Role.COMPLIANCE,
    "evaluation": Role.QA_SUPERVISOR,
    "training": Role.TRAINER,
}
EXAMPLES_PER_OPERATION = 6


def _openapi_document() -> dict[str, Any]:
    """The document the app serves (it depends on the routes only, not on the database or store)."""
    with tempfile.TemporaryDirectory(prefix="callvault-openapi-") as data_dir:
        settings = Settings(
            data_dir=Path(data_dir), master_key=generate_master_key(), secret_key="collect-only"
        ).with_derived_defaults()
        document: dict[str, Any] = create_app(settings).test_client().get("/api/v1/openapi.json").json
    return document


OPENAPI = _openapi_document()

pytestmark = pytest.mark.slow


def test_every_scope_has_a_role_here() -> None:
    assert set(SCOPE_ROLES) == set(TOKEN_SCOPES)


@pytest.fixture
def tokens(session: Session) -> dict[str, str]:
    made = {
        scope: make_token(session, role=role, scope=scope) for scope, role in SCOPE_ROLES.items() if scope != "partner"
    }
    lab = partner(session, institute(session).id)
    _, made["partner"] = create_token(session, actor=SYSTEM, user=lab, scope="partner")
    session.commit()
    return made


schema = schemathesis.openapi.from_dict(OPENAPI)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_server_error_and_every_response_matches_its_schema(
    case: schemathesis.Case, app: Flask, tokens: dict[str, str]
) -> None:
    for token in tokens_for(case, app, tokens):
        response = case.call(app=app, headers={"Authorization": f"Bearer {token}"})
        case.validate_response(
            response,
            checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
            transport_kwargs={"app": app},
        )


def tokens_for(case: schemathesis.Case, app: Flask, tokens: dict[str, str]) -> list[str]:
    """The tokens whose scope reaches the operation; one other where none does, so its refusal is fuzzed too.

    A refused token never gets past the permission check, and the access tests cover refusals for every
    route and role, so sending every other token as well would only slow the run.
    """
    permission = declared_permission(app, case.operation.definition.raw["operationId"])
    reaching = [
        token
        for scope, token in tokens.items()
        if permission in TOKEN_SCOPES[scope] & ROLE_PERMISSIONS[SCOPE_ROLES[scope]] or permission == Permission.PUBLIC
    ]
    return reaching or [tokens["read"]]
