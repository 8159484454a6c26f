"""Reads that showed a call's content, or which calls a customer has, without an event in that call's trail (found by
the audit-completeness pass): the waveform, a call's comments through the API, where a call or a customer's calls
went for research, and a rectification's corrections (logged against the request alone). Each is now in the trail of
every call it showed, which is where the audit page and the evidence package look."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.audit_search import EventFilter, find_events
from recordings_service.config import Settings
from recordings_service.db import utcnow
from recordings_service.models import Annotation
from recordings_service.models.account import Role
from recordings_service.privacy import rectification, subjects
from recordings_service.privacy.rectification import SegmentFix
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.audit import events, newest_seq
from tests.factories.privacy import OFFICER, customer
from tests.factories.recordings import ingest_file
from tests.factories.research import draft, institute, research_call
from tests.factories.reviews import make_transcribed_call


def trail(session: Session, recording_id: str, after: int) -> list[str]:
    """The actions in the recording's trail since `after`, as the audit page's object id filter finds them."""
    found = find_events(session, filters=EventFilter(object_id=recording_id), limit=500)
    return sorted(event.action for event in found if event.seq > after)


def test_the_waveform_is_in_the_calls_trail_once_a_minute(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    call = ingest_file(session, store, envelope, settings).recording
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    session.commit()
    before = newest_seq(session)
    for _ in range(2):  # the call page fetches it on every view
        assert client.get(f"/calls/{call.id}/peaks.json").status_code == 200
    assert trail(session, call.id, before) == ["recording.waveform_viewed"]


def test_a_calls_comments_read_through_the_api_are_in_its_trail(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    call = make_transcribed_call(session, store, envelope)
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    session.add(Annotation(recording_id=call.id, at_s=1.0, text="read the card number aloud", author_id=supervisor.id))
    login(client, supervisor)
    session.commit()
    before = newest_seq(session)
    answer = client.get(f"/api/v1/recordings/{call.id}/annotations")
    assert answer.status_code == 200 and len(answer.get_json()["items"]) == 1
    assert trail(session, call.id, before) == ["recording.comments_read"]


def test_where_a_customers_calls_went_for_research_is_in_each_calls_trail(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope, runtime: Runtime
) -> None:
    person = customer(session)
    call = research_call(session, store, envelope, customer_id=person.id)
    officer = make_user(session, role=Role.COMPLIANCE)
    draft(session, runtime, officer, institute(session).id)
    login(client, officer)
    session.commit()

    before = newest_seq(session)
    by_customer = client.get(f"/api/v1/customers/{person.customer_ref}/custody")
    assert by_customer.status_code == 200 and by_customer.get_json()["items"][0]["recording_id"] == call.id
    by_call = client.get(f"/api/v1/recordings/{call.id}/custody")
    assert by_call.status_code == 200
    assert trail(session, call.id, before) == ["customer.custody_read", "recording.custody_read"]
    (read,) = events(session, "customer.custody_read", person.id, after=before)
    assert read.details["recordings"] == call.id

    # A reference no customer has: refused, and the probe leaves a trace (not the reference typed).
    assert client.get("/api/v1/customers/CRM-NOBODY-42/custody").status_code == 404
    (refused,) = events(session, "customer.custody_refused", after=before)
    assert "CRM-NOBODY-42" not in str(refused.details)


def test_a_rectifications_corrections_viewed_are_in_the_corrected_calls_trail(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    person = customer(session)
    call = make_transcribed_call(session, store, envelope, customer_id=person.id)
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="rectification", received_at=utcnow()
    )
    fix = [SegmentFix(0, "the corrected words")]
    rectification.rectify(
        session, actor=OFFICER, request_id=request.id, recording_id=call.id, transcript=fix, zone=ZoneInfo("UTC")
    )
    login(client, make_user(session, role=Role.COMPLIANCE))
    session.commit()
    before = newest_seq(session)
    page = client.get(f"/subjects/{request.id}")
    assert "the corrected words" in page.get_data(as_text=True)
    assert "subject_request.corrections_viewed" in trail(session, call.id, before)
