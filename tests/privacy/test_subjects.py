"""Data-subject requests in the core, on both databases against real SeaweedFS: deadlines, charges, objection,
restriction, rectification and erasure."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.calls.search import SearchFilters, search_calls
from recordings_service.config import Settings
from recordings_service.errors import Conflict, Invalid, NotFound
from recordings_service.models import (
    AuditEvent,
    Customer,
    DeletionReceipt,
    SubjectCorrection,
    SubjectRequest,
    Tombstone,
    Transcript,
)
from recordings_service.models.account import Role
from recordings_service.privacy import erasure, holds, restriction, subjects
from recordings_service.privacy.deletion import derived_prefix
from recordings_service.privacy.fulfilment import Answer, after_commit, fulfil_request
from recordings_service.privacy.rectification import SegmentFix, rectify
from recordings_service.recordings import RecordingFilters, get_playable_recording, list_recordings
from recordings_service.research.selection import Exclusion as ResearchExclusion
from recordings_service.research.selection import candidates_among, study_ends_at
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from recordings_service.training.eligibility import Exclusion as TrainingExclusion
from recordings_service.training.eligibility import exclusions_of
from recordings_service.training_rules import TrainingRules
from recordings_service.transcript_text import segments_of, twin_of
from tests.factories.privacy import OFFICER, ORG_ZONE, aged_call, customer, reload, reviewed
from tests.factories.recordings import ingest_file

NOW = datetime.now(UTC).replace(microsecond=0)
SUPERVISOR = Actor(id=None, name="supervisor", role=Role.QA_SUPERVISOR)


def request_for(session: Session, ref: str, kind: str, *, received_at: datetime = NOW) -> SubjectRequest:
    return subjects.create_request(
        session, actor=OFFICER, customer_ref=ref, kind=kind, received_at=received_at, now=received_at
    )


def actions(session: Session, action: str) -> Counter[str | None]:
    return Counter(session.scalars(select(AuditEvent.object_id).where(AuditEvent.action == action)))


def test_a_request_is_due_a_calendar_month_after_receipt_and_extends_once(session: Session) -> None:
    ref = customer(session).customer_ref
    received = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
    request = request_for(session, ref, "objection", received_at=received)
    assert request.due_at == datetime(2026, 2, 28, 23, 59, 59, 999999, tzinfo=UTC)  # to the end of that day
    assert subjects.days_left(request, now=received, zone=UTC) == 28

    with pytest.raises(Invalid) as wrong:
        subjects.extend_request(session, actor=OFFICER, request_id=request.id, months=3, reason="x", now=received)
    assert wrong.value.field == "months"
    extended = subjects.extend_request(
        session, actor=OFFICER, request_id=request.id, months=2, reason="many recordings", now=received
    )
    assert extended.extended_until == datetime(2026, 4, 30, 23, 59, 59, 999999, tzinfo=UTC)  # three months on
    assert extended.deadline == extended.extended_until and extended.extension_reason == "many recordings"
    with pytest.raises(Conflict, match="once"):
        subjects.extend_request(session, actor=OFFICER, request_id=request.id, months=1, reason="again", now=received)

    late = request_for(session, ref, "erasure", received_at=received - timedelta(days=40))
    with pytest.raises(Conflict, match="overdue"):
        subjects.extend_request(session, actor=OFFICER, request_id=late.id, months=1, reason="late", now=received)
    overdue = subjects.overdue_requests(session, now=received)
    assert late in overdue and request not in overdue
    assert subjects.days_left(late, now=received, zone=UTC) < 0
    assert [request.id for request in subjects.overdue_requests(session, now=datetime(2026, 5, 1, tzinfo=UTC))][
        -1
    ] == request.id  # past the extension: overdue too, the least overdue last
    assert actions(session, "subject_request.extended") == Counter({request.id: 1})


def test_the_first_access_copy_in_twelve_months_is_free(session: Session) -> None:
    ref = customer(session).customer_ref
    first = request_for(session, ref, "access", received_at=NOW - timedelta(days=800))
    second = request_for(session, ref, "access", received_at=NOW - timedelta(days=300))
    for given in (first, second):  # their packages downloaded: copies given (test_access_chargeable_copy_given.py)
        record_event(
            session,
            actor=OFFICER,
            action="subject_access.downloaded",
            object_type="subject_request",
            object_id=given.id,
        )
    third = request_for(session, ref, "access", received_at=NOW)
    other_kind = request_for(session, ref, "erasure", received_at=NOW)
    assert [first.chargeable, second.chargeable, third.chargeable, other_kind.chargeable] == [False, False, True, False]
    with pytest.raises(Invalid) as wrong:
        request_for(session, ref, "forget")
    assert wrong.value.field == "kind"


def test_an_answered_requests_countdown_stops_when_it_was_answered(session: Session) -> None:
    """The days left of an answered request say how early the answer came; they do not go on counting to overdue."""
    ref = customer(session).customer_ref
    received = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
    request = request_for(session, ref, "objection", received_at=received)
    subjects.record_objection(
        session, actor=OFFICER, request_id=request.id, research=True, marketing=None, now=received + timedelta(days=5)
    )
    a_year_on = received + timedelta(days=365)

    assert subjects.days_left(request, now=a_year_on, zone=UTC) == 26  # due 10 February, answered on 15 January
    assert request not in subjects.overdue_requests(session, now=a_year_on)


def test_an_objection_sets_the_customers_flags_at_once(session: Session) -> None:
    person = customer(session)
    request = request_for(session, person.customer_ref, "objection")
    with pytest.raises(Invalid):
        subjects.record_objection(session, actor=OFFICER, request_id=request.id, research=None, marketing=None)
    subjects.record_objection(session, actor=OFFICER, request_id=request.id, research=True, marketing=False)
    session.refresh(person)
    assert (person.objects_to_research, person.objects_to_marketing) == (True, False)
    assert request.completed_at is not None and request.outcome["objects_to"] == {"research": True, "marketing": False}
    assert actions(session, "customer.objection_recorded") == Counter({person.id: 1})
    with pytest.raises(Conflict):
        subjects.record_objection(session, actor=OFFICER, request_id=request.id, research=False, marketing=None)


def test_restriction_hides_the_calls_from_supervisors_until_lifted(
    session: Session, bucket: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    person = customer(session)
    calls = [aged_call(session, bucket, envelope, started_at=NOW, purposes=[], customer_id=person.id) for _ in range(2)]
    other = aged_call(session, bucket, envelope, started_at=NOW, purposes=[], customer_id=customer(session).id)
    request = request_for(session, person.customer_ref, "restriction")
    done = fulfil_request(session, bucket, actor=OFFICER, request_id=request.id, answer=Answer(), zone=ORG_ZONE)
    assert done.request.outcome == {"recordings_restricted": 2}
    for call in calls:
        with pytest.raises(NotFound):
            get_playable_recording(session, actor=SUPERVISOR, recording_id=call.id)
        assert get_playable_recording(session, actor=OFFICER, recording_id=call.id).restricted
    listed = list_recordings(session, actor=SUPERVISOR, filters=RecordingFilters(customer_ref=person.customer_ref))
    assert listed.items == []
    assert not reload(session, other.id).restricted
    later = ingest_file(session, bucket, envelope, settings, customer_ref=person.customer_ref).recording
    assert later.restricted  # a call of a restricted customer ingested later is restricted too

    restriction.lift_restriction(session, actor=OFFICER, request_id=request.id)
    assert all(not reload(session, call.id).restricted for call in [*calls, later])
    assert get_playable_recording(session, actor=SUPERVISOR, recording_id=calls[0].id).id == calls[0].id
    with pytest.raises(Conflict):
        restriction.lift_restriction(session, actor=OFFICER, request_id=request.id)
    assert actions(session, "subject_request.restricted") == Counter({request.id: 1})
    assert actions(session, "subject_request.lifted") == Counter({request.id: 1})


def test_a_person_never_recorded_can_object_and_restrict_and_their_first_call_follows(
    session: Session, bucket: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    """A written objection or restriction may come before any call of the person was recorded; both were
    refused with 404 (no recordings of customer), so their first call went to research and to supervisors."""
    ref = "never-recorded-" + NOW.strftime("%H%M%S%f")
    objection = request_for(session, ref, "objection")
    subjects.record_objection(session, actor=OFFICER, request_id=objection.id, research=True, marketing=True)
    restriction = request_for(session, ref, "restriction")
    done = fulfil_request(session, bucket, actor=OFFICER, request_id=restriction.id, answer=Answer(), zone=ORG_ZONE)
    assert done.request.outcome == {"recordings_restricted": 0}

    first = ingest_file(session, bucket, envelope, settings, customer_ref=ref).recording
    assert first.restricted
    assert first.customer is not None and first.customer.objects_to_research and first.customer.objects_to_marketing
    with pytest.raises(NotFound):
        get_playable_recording(session, actor=SUPERVISOR, recording_id=first.id)


def test_rectification_is_versioned_and_reaches_the_twin_and_the_index(
    session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    person = customer(session)
    call = reviewed(session, aged_call(session, bucket, envelope, started_at=NOW, purposes=["verification"]))
    call.customer_id = person.id
    stranger = aged_call(session, bucket, envelope, started_at=NOW, purposes=[], customer_id=customer(session).id)
    request = request_for(session, person.customer_ref, "rectification")
    assert search_calls(session, actor=OFFICER, query="meter", filters=SearchFilters()).items
    ciphertext = bucket.get(call.storage_key).read()

    with pytest.raises(Invalid) as other:
        rectify(
            session,
            actor=OFFICER,
            request_id=request.id,
            recording_id=stranger.id,
            metadata={"queue": "x"},
            zone=ORG_ZONE,
        )
    assert other.value.field == "recording_id"
    with pytest.raises(Invalid) as unknown:
        rectify(
            session, actor=OFFICER, request_id=request.id, recording_id=call.id, metadata={"sha256": "0"}, zone=ORG_ZONE
        )
    assert unknown.value.field == "metadata.sha256"
    with pytest.raises(Invalid) as out_of_range:
        rectify(
            session,
            actor=OFFICER,
            request_id=request.id,
            recording_id=call.id,
            transcript=[SegmentFix(9, "word")],
            zone=ORG_ZONE,
        )
    assert out_of_range.value.field == "transcript.0.segment"

    rectify(
        session,
        actor=OFFICER,
        request_id=request.id,
        recording_id=call.id,
        metadata={"agreement_made": True, "language": "fi", "direction": "inbound"},  # the direction as it was
        transcript=[SegmentFix(1, "my thermostat reading is wrong, card 4111 1111 1111 1111")],
        zone=ORG_ZONE,
    )
    transcript = session.scalars(select(Transcript).where(Transcript.recording_id == call.id)).one()
    segments, twin = segments_of(session, transcript), twin_of(session, transcript)
    assert segments[1]["text"].startswith("my thermostat reading is wrong")
    assert "4111" not in segments[1]["text"]  # card data is never kept, corrected or not
    assert segments[1]["corrected"] is True and segments[1]["words"] == []
    assert twin is not None and "thermostat" in twin[1]["text"]
    assert search_calls(session, actor=OFFICER, query="thermostat", filters=SearchFilters()).items
    assert not search_calls(session, actor=OFFICER, query="meter", filters=SearchFilters()).items
    recording = reload(session, call.id)
    assert (recording.agreement_made, recording.language) == (True, "fi")
    assert recording.retain_until is not None and recording.retain_until > NOW + timedelta(days=3 * 365 - 2)
    corrections = {
        (row.field, row.segment): (row.previous, row.value)
        for row in session.scalars(select(SubjectCorrection).where(SubjectCorrection.request_id == request.id))
    }
    assert corrections[("agreement_made", None)] == (None, True)
    assert corrections[("language", None)] == ("en", "fi")
    assert corrections[("segment", 1)][0] == "my meter reading is wrong"
    assert bucket.get(call.storage_key).read() == ciphertext  # the audio is evidence: never edited
    assert actions(session, "recording.rectified") == Counter({call.id: 1})
    rectified = session.scalars(select(AuditEvent).where(AuditEvent.action == "recording.rectified")).one()
    assert rectified.details["fields"] == ["agreement_made", "language"]  # not the unchanged direction
    assert request.completed_at is not None and request.outcome["corrections"] == 3


def test_erasure_keeps_held_calls_and_agreements_in_their_period_and_deletes_the_rest(
    session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    person = customer(session)
    old = NOW - timedelta(days=5 * 365)

    def call(**values: object) -> str:
        made = aged_call(session, bucket, envelope, customer_id=person.id, **values)  # type: ignore[arg-type]
        return made.id

    held = call(started_at=NOW, purposes=["training"])
    held_for_study = call(started_at=NOW, purposes=["quality_study"])
    agreement = call(started_at=NOW - timedelta(days=30), purposes=["verification"], agreement_made=True)
    # An agreement made on a call kept for training only is not kept as evidence (retention does not keep it).
    training_agreement = call(started_at=NOW - timedelta(days=30), purposes=["training"], agreement_made=True)
    expired_agreement = call(started_at=old, purposes=["verification"], agreement_made=True)
    plain = reviewed(session, reload(session, call(started_at=NOW, purposes=["training"]))).id
    other = aged_call(session, bucket, envelope, started_at=NOW, purposes=[], customer_id=customer(session).id)
    for kept_by_hold in (held, held_for_study):
        holds.place_hold(session, actor=OFFICER, reason="dispute", recording_id=kept_by_hold)
    rectification = request_for(session, person.customer_ref, "rectification")
    rectify(
        session,
        actor=OFFICER,
        request_id=rectification.id,
        recording_id=plain,
        transcript=[SegmentFix(0, "hi")],
        zone=ORG_ZONE,
    )
    request = request_for(session, person.customer_ref, "erasure")

    done = fulfil_request(session, bucket, actor=OFFICER, request_id=request.id, answer=Answer(), zone=ORG_ZONE)
    assert done.erased is not None
    session.flush()
    purged = after_commit(session, bucket, done)

    assert sorted(done.erased.deleted) == sorted([expired_agreement, plain, training_agreement])
    kept = {item["recording_id"]: item for item in done.request.outcome["kept"]}
    assert kept[held]["reason"] == erasure.LEGAL_HOLD
    assert kept[agreement]["reason"] == erasure.AGREEMENT_EVIDENCE and kept[agreement]["until"] > NOW.isoformat()
    assert purged >= 2 * 4  # each: original, two waveform versions, a clip
    for recording_id in done.erased.deleted:
        recording = reload(session, recording_id)
        assert recording.status == "deleted" and recording.wrapped_data_key == b""
        assert list(bucket.list_versions(recording.storage_key)) == []
        assert list(bucket.list_versions(derived_prefix(recording_id))) == []
        assert session.get_one(Tombstone, recording_id).reason == "erasure"
    for recording_id in (held, held_for_study, agreement):
        assert reload(session, recording_id).status != "deleted"
        assert list(bucket.list_versions(reload(session, recording_id).storage_key))
    assert reload(session, other.id).status != "deleted"
    # The corrected transcript text went with its transcript.
    assert not session.scalars(select(SubjectCorrection).where(SubjectCorrection.recording_id == plain)).all()
    deleted_events = actions(session, "recording.deleted")
    assert deleted_events == Counter({expired_agreement: 1, plain: 1, training_agreement: 1})
    receipt = session.scalars(select(DeletionReceipt).where(DeletionReceipt.kind == "erasure")).one()
    assert receipt.recordings == 3 and receipt.counts["kept"] == 3
    assert done.request.outcome["receipt_id"] == receipt.id
    with pytest.raises(Conflict):
        fulfil_request(session, bucket, actor=OFFICER, request_id=request.id, answer=Answer(), zone=ORG_ZONE)
    # Found by exploratory testing: once the erasure was done, the calls it kept for a legal duty went back
    # into the training library and research selection.
    assert exclusions_of(session, [held], rules=TrainingRules())[held] == TrainingExclusion.ERASURE_REQUESTED
    study = candidates_among(
        session,
        actor=OFFICER,
        study_ends=study_ends_at(NOW.date(), "UTC"),
        redacted_audio=True,
        recording_ids=[held_for_study],
    )
    assert [candidate.reason for candidate in study] == [ResearchExclusion.ERASURE_REQUESTED]


def test_a_fulfilment_refuses_fields_of_another_kind(session: Session, bucket: S3ObjectStore) -> None:
    request = request_for(session, customer(session).customer_ref, "erasure")
    with pytest.raises(Invalid) as wrong:
        fulfil_request(
            session, bucket, actor=OFFICER, request_id=request.id, answer=Answer(research=True), zone=ORG_ZONE
        )
    assert wrong.value.field == "research"
    assert session.get_one(SubjectRequest, request.id).open
    assert session.scalars(select(Customer)).first() is not None
