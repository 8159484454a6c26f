"""A tag put on calls by mistake (or no longer true: "escalate" once it was handled) could not be taken off: the
call list had Add tag only. The same bulk form now removes a tag, in any case or spacing, from the chosen calls
that carry it, each audited as `recording.untagged` without the tag's words."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.calls import tags
from recordings_service.errors import NotFound
from recordings_service.models import AuditEvent
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import csrf_token, login, make_user
from tests.factories.evaluations import actor_of
from tests.factories.recordings import make_recording

DAY = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)


def test_a_tag_is_removed_in_bulk_from_the_calls_that_carry_it_and_audited(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    calls = [make_recording(session, store, envelope, audio=b"RIFF", started_at=DAY, queue="sales") for _ in range(3)]
    actor = actor_of(supervisor)
    tags.tag_calls(session, actor=actor, recording_ids=[calls[0].id, calls[1].id], tag="Escalate")
    tags.tag_calls(session, actor=actor, recording_ids=[calls[0].id], tag="Churn risk")
    login(client, supervisor)

    chosen = [call.id for call in calls]  # the third never had it: nothing to remove there
    form = {"csrf_token": csrf_token(client, "/calls/"), "recording_id": chosen, "back": "queue=sales"}
    response = client.post("/calls/untag", data={**form, "tag": "  ESCALATE "})

    assert response.status_code == 302 and response.headers["Location"] == "/calls/?queue=sales"
    assert tags.tags_of(session, chosen) == {calls[0].id: ["Churn risk"]}
    page = client.get("/calls/", query_string={"queue": "sales"}).get_data(as_text=True)
    assert "Removed the tag from 2 calls." in page
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "recording.untagged")).all()
    assert sorted(event.object_id for event in events) == sorted([calls[0].id, calls[1].id])
    assert all(event.actor_id == supervisor.id and "scalate" not in str(event.details) for event in events)

    blank = client.post("/calls/untag", data={**form, "tag": "  "})
    assert blank.status_code == 302  # back to the list, saying what is missing
    assert "enter a tag" in client.get("/calls/", query_string={"queue": "sales"}).get_data(as_text=True).lower()


def test_a_tag_is_not_removed_from_a_call_the_actor_cannot_see(
    session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    hidden = make_recording(session, store, envelope, audio=b"RIFF", started_at=DAY, restricted=True)
    officer = actor_of(make_user(session, role=Role.COMPLIANCE))
    tags.tag_calls(session, actor=officer, recording_ids=[hidden.id], tag="dispute")
    supervisor = actor_of(make_user(session, role=Role.QA_SUPERVISOR))
    with pytest.raises(NotFound) as refused:
        tags.untag_calls(session, actor=supervisor, recording_ids=[hidden.id], tag="dispute")
    assert refused.value.refusal is not None  # the refusal is audited
    assert tags.tags_of(session, [hidden.id]) == {hidden.id: ["dispute"]}
