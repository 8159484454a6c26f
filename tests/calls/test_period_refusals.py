"""Found by exploratory testing: GET /api/v1/search and GET /api/v1/recordings took a period whose started_to came
before (or at) its started_from (the two swapped, a typo in a script) and answered 200 with no calls, as if none
had been made then. Such a period holds no call: it is now refused, 422 naming started_to (the call list's form
refused its own 'To' before its 'From' already)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.recordings import make_recording


@pytest.fixture
def supervisor_client(client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope) -> FlaskClient:
    make_recording(session, store, envelope)
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    return client


@pytest.mark.parametrize("path", ["/api/v1/search", "/api/v1/recordings"])
@pytest.mark.parametrize(
    ("started_from", "started_to"),
    [
        ("2026-12-01T00:00:00+02:00", "2026-11-01T00:00:00+02:00"),
        ("2026-12-01T00:00:00+02:00", "2026-11-30T22:00:00Z"),  # the same moment, written in UTC
    ],
    ids=["swapped", "same-moment"],
)
def test_a_period_ending_before_it_begins_is_refused_naming_started_to(
    supervisor_client: FlaskClient, path: str, started_from: str, started_to: str
) -> None:
    response = supervisor_client.get(path, query_string={"started_from": started_from, "started_to": started_to})
    assert response.status_code == 422
    body = response.get_json()
    assert body["field"] == "started_to"
    assert body["error"] == "out_of_range"
    assert "started_from" in body["message"]


@pytest.mark.parametrize("path", ["/api/v1/search", "/api/v1/recordings"])
def test_a_period_in_order_is_taken(supervisor_client: FlaskClient, path: str) -> None:
    query = {"started_from": "2020-01-01T00:00:00Z", "started_to": "2020-01-01T00:00:01Z"}
    response = supervisor_client.get(path, query_string=query)
    assert response.status_code == 200
    assert response.get_json()["items"] == []
