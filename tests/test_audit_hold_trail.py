"""A call's trail lists the legal holds placed on it and released from it, though their object is the hold, and what
changed all its customer's calls (a hold on the customer, a restriction and its lifting).

Found following the call page's link to a disputed call's trail as a compliance officer: the hold placed on the call
(`legal_hold.placed`, object the hold, the call named in its details) was not in the call's trail, nor in its
evidence package, nor in the export filtered by the call.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event, verify_links
from recordings_service.audit_search import EventFilter, count_events, iter_events
from recordings_service.calls.evidence import export_evidence
from recordings_service.config import Settings
from recordings_service.db import utcnow
from recordings_service.models.account import Role
from recordings_service.privacy.holds import place_hold, release_hold
from recordings_service.privacy.restriction import lift_restriction, restrict_processing
from recordings_service.privacy.subjects import create_request
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.privacy import customer
from tests.factories.recordings import ingest_file, make_recording

COMPLIANCE = Actor(id=None, name="compliance", role=Role.COMPLIANCE)


def test_a_calls_trail_lists_the_holds_placed_on_it_and_released(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    call = make_recording(session, store, envelope)
    other = make_recording(session, store, envelope)
    own = record_event(session, actor=COMPLIANCE, action="recording.viewed", object_type="recording", object_id=call.id)
    placed = place_hold(session, actor=COMPLIANCE, reason="dispute 42", recording_id=call.id).hold
    release_hold(session, actor=COMPLIANCE, hold_id=placed.id, reason="settled")
    place_hold(session, actor=COMPLIANCE, reason="another dispute", recording_id=other.id)
    session.commit()

    trail = [(event.action, event.object_id) for event in iter_events(session, filters=EventFilter(object_id=call.id))]

    assert trail == [
        ("recording.viewed", own.object_id),
        ("legal_hold.placed", placed.id),
        ("legal_hold.released", placed.id),
    ]
    assert count_events(session, filters=EventFilter(object_id=call.id.lower(), action="legal_hold.*")) == 2
    assert count_events(session, filters=EventFilter(object_id=placed.id)) == 2  # the hold's own trail, as before
    login(client, make_user(session, role=Role.COMPLIANCE))
    exported = client.get("/audit/export.csv", query_string={"object_id": call.id, "action": "legal_hold.*"})
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert [row["action"] for row in rows] == ["legal_hold.placed", "legal_hold.released"]


def test_a_calls_trail_and_evidence_list_what_changed_all_its_customers_calls(
    session: Session, store: ObjectStore, envelope: Envelope, tmp_path: Path
) -> None:
    """Found by an exploratory pass: a hold placed on a customer, and a restriction and its lifting, were in no call's
    trail: the evidence package said the call was held without saying since when or by whom."""
    person = customer(session)
    call, other_call = (make_recording(session, store, envelope, customer_id=person.id) for _ in range(2))
    stranger = make_recording(session, store, envelope)
    hold = place_hold(session, actor=COMPLIANCE, reason="dispute 43", customer_ref=person.customer_ref).hold
    request = create_request(
        session, actor=COMPLIANCE, customer_ref=person.customer_ref, kind="restriction", received_at=utcnow()
    )
    restrict_processing(session, actor=COMPLIANCE, request_id=request.id)
    lift_restriction(session, actor=COMPLIANCE, request_id=request.id)
    release_hold(session, actor=COMPLIANCE, hold_id=hold.id, reason="settled")
    session.commit()
    changes = ["legal_hold.placed", "subject_request.restricted", "subject_request.lifted", "legal_hold.released"]

    for recording in (call, other_call):
        trail = [event.action for event in iter_events(session, filters=EventFilter(object_id=recording.id))]
        assert [action for action in trail if action in changes] == changes
    assert not any(
        event.action in changes for event in iter_events(session, filters=EventFilter(object_id=stranger.id))
    )
    package = io.BytesIO()
    supervisor = Actor(id=None, name="supervisor", role=Role.QA_SUPERVISOR)
    export_evidence(
        session,
        store,
        envelope,
        actor=supervisor,
        recording_id=call.id,
        destination=package,
        work_dir=tmp_path,
        zone=UTC,
    )
    with zipfile.ZipFile(package) as archive:
        exported = [event["action"] for event in json.loads(archive.read("audit_trail.json"))]
    assert [action for action in exported if action in changes] == changes
    assert verify_links(session) is None


def test_a_call_ingested_under_a_customers_hold_and_restriction_names_them_in_its_trail(
    session: Session, store: ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    """Found by a verification pass: a call of a customer already held and restricted came in held and restricted,
    and its trail said so nowhere (the placing and restricting events predate it and name the calls of then)."""
    person = customer(session)
    hold = place_hold(session, actor=COMPLIANCE, reason="dispute 44", customer_ref=person.customer_ref).hold
    request = create_request(
        session, actor=COMPLIANCE, customer_ref=person.customer_ref, kind="restriction", received_at=utcnow()
    )
    restrict_processing(session, actor=COMPLIANCE, request_id=request.id)
    plain = customer(session)
    session.commit()

    held = ingest_file(session, store, envelope, settings, customer_ref=person.customer_ref).recording
    free = ingest_file(session, store, envelope, settings, customer_ref=plain.customer_ref).recording
    session.commit()

    (ingested,) = [
        e for e in iter_events(session, filters=EventFilter(object_id=held.id)) if e.action == "recording.ingested"
    ]
    assert held.legal_hold and held.restricted
    assert (ingested.details["legal_holds"], ingested.details["restrictions"]) == (hold.id, request.id)
    (plain_event,) = [
        e for e in iter_events(session, filters=EventFilter(object_id=free.id)) if e.action == "recording.ingested"
    ]
    assert "legal_holds" not in plain_event.details and "restrictions" not in plain_event.details
