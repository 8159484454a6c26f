"""Assigning a call again as it was changes nothing, and the audit trail says nothing changed.

A QA automation retrying its request, or a lead clicking twice, posted the same assignment again: the answer was
right (the same assignment, `listed_before`), but the trail recorded an `assignment.updated` for a change nobody made.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import AuditEvent
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.assignments import api_caller
from tests.factories.recordings import make_recording


def assignment_events(session: Session) -> list[tuple[str, str | None]]:
    session.expire_all()
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("assignment.%")).order_by(AuditEvent.id)
    ).all()
    return [(event.action, event.details["due"]) for event in events]


def test_the_same_assignment_posted_again_records_nothing_and_a_new_due_date_is_recorded(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead, supervisor = make_user(session), make_user(session)
    call = make_recording(session, store, envelope)
    session.commit()
    login(client, lead)
    ask = api_caller(client)
    due = (date.today() + timedelta(days=14)).isoformat()
    later = (date.today() + timedelta(days=21)).isoformat()
    wanted = {"recording_id": call.id, "assignee_id": supervisor.id, "due": due}

    first = ask("POST", "/api/v1/assignments", 201, wanted)
    again = ask("POST", "/api/v1/assignments", 201, wanted)
    without_due = ask("POST", "/api/v1/assignments", 201, {"recording_id": call.id, "assignee_id": supervisor.id})
    bulk = ask("POST", "/api/v1/assignments/bulk", 201, {"recording_ids": [call.id], "assignee_id": supervisor.id})

    assert first["id"] == again["id"] == without_due["id"] == bulk["items"][0]["id"]
    assert (without_due["due"], bulk["listed_before"], bulk["added"]) == (due, 1, 0)
    assert assignment_events(session) == [("assignment.created", due)]

    moved = ask("POST", "/api/v1/assignments", 201, {**wanted, "due": later})

    assert moved["due"] == later
    assert assignment_events(session) == [("assignment.created", due), ("assignment.updated", later)]
