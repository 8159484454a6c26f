"""The audit trail's filters read what was typed in any case, alike on SQLite and PostgreSQL.

Found acting as a compliance officer following a call's trail: "Recording" as the object type, or the call's id
typed in lower case (ULIDs are case-insensitive), listed "No events match." as a quiet trail would; and the action
"Login.*" listed the sign-ins on SQLite (whose LIKE ignores case) but none on PostgreSQL.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.db import new_id
from recordings_service.models.account import Role
from tests.factories.accounts import login, make_user


def exported(client: FlaskClient, query: dict[str, str]) -> list[dict[str, str]]:
    response = client.get("/audit/export.csv", query_string=query)
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


# Each filter as typed, given the acting account's id and the call's id.
TYPED: dict[str, Callable[[str, str], dict[str, str]]] = {
    "action": lambda actor_id, call_id: {"action": "Probe.Case_Found"},
    "action kind": lambda actor_id, call_id: {"action": "PROBE.CASE_*"},
    "object type": lambda actor_id, call_id: {"object_type": "Recording", "action": "probe.case_found"},
    "object id": lambda actor_id, call_id: {"object_id": call_id.lower()},
    "actor id": lambda actor_id, call_id: {"actor": actor_id.lower(), "action": "probe.case_found"},
}


@pytest.mark.parametrize("typed", TYPED.values(), ids=TYPED.keys())
def test_filters_read_in_any_case(
    client: FlaskClient, session: Session, typed: Callable[[str, str], dict[str, str]]
) -> None:
    alice = make_user(session, role=Role.QA_SUPERVISOR)
    call_id = new_id()
    actor = Actor(id=alice.id, name=alice.username, role=alice.role)
    record_event(session, actor=actor, action="probe.case_found", object_type="recording", object_id=call_id)
    record_event(session, actor=actor, action="probe.other", object_type="user", object_id=new_id())
    login(client, make_user(session, role=Role.COMPLIANCE))
    rows = [row for row in exported(client, typed(alice.id, call_id)) if row["action"].startswith("probe.")]
    assert [(row["action"], row["object_id"]) for row in rows] == [("probe.case_found", call_id)]


def test_an_id_the_trail_keeps_as_given_still_matches_as_typed(client: FlaskClient, session: Session) -> None:
    """A refused request's path id is kept as it came: typed as it shows, it is found."""
    record_event(session, actor=Actor.anonymous("192.0.2.1"), action="probe.refused", object_id="nope-abc")
    login(client, make_user(session, role=Role.COMPLIANCE))
    assert [row["object_id"] for row in exported(client, {"object_id": "nope-abc"})] == ["nope-abc"]
