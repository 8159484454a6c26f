"""A call an erasure kept until a legal duty ended is deleted by the sweep for that erasure. Found by review: the sweep
deleted it with reason `retention`, so its tombstone, its `recording.deleted` event and the sweep's receipt did not
say the call went because the customer asked for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jobs.retention import sweep
from recordings_service.config import Settings
from recordings_service.db import utcnow
from recordings_service.models import AuditEvent, DeletionReceipt, Tombstone
from recordings_service.privacy import holds, subjects
from recordings_service.privacy.deletion import delete_due
from recordings_service.privacy.fulfilment import Answer, fulfil_request
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.privacy import OFFICER, ORG_ZONE, aged_call, customer
from tests.factories.recordings import ingest_file

NOW = datetime.now(UTC).replace(microsecond=0)
LONG_AGO = NOW - timedelta(days=800)  # past 12 months


def erased_after_hold(session: Session, bucket: S3ObjectStore, envelope: Envelope) -> tuple[str, str]:
    """A call kept on hold by its customer's erasure, then released: (recording id, erasure request id)."""
    person = customer(session)
    call = aged_call(
        session, bucket, envelope, started_at=NOW - timedelta(days=10), purposes=["training"], customer_id=person.id
    )
    hold = holds.place_hold(session, actor=OFFICER, reason="billing dispute", recording_id=call.id).hold
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="erasure", received_at=NOW, now=NOW
    )
    fulfil_request(session, bucket, actor=OFFICER, request_id=request.id, answer=Answer(), zone=ORG_ZONE)
    holds.release_hold(session, actor=OFFICER, hold_id=hold.id, reason="dispute settled")
    session.flush()
    return call.id, request.id


def deletion_event(session: Session, recording_id: str) -> dict[str, object]:
    return session.scalars(
        select(AuditEvent.details).where(AuditEvent.action == "recording.deleted", AuditEvent.object_id == recording_id)
    ).one()


def test_the_sweep_deletes_a_call_an_erasure_kept_for_that_erasure(
    session: Session, sessions: sessionmaker[Session], bucket: S3ObjectStore, envelope: Envelope
) -> None:
    kept_id, request_id = erased_after_hold(session, bucket, envelope)
    expired = aged_call(session, bucket, envelope, started_at=LONG_AGO, purposes=["training"])

    report = sweep(sessions, bucket, now=utcnow(), batch=10, actor=OFFICER, dry_run=False)

    assert report.recording_ids == sorted([kept_id, expired.id])
    reasons = {
        row.recording_id: row.reason for row in session.execute(select(Tombstone.recording_id, Tombstone.reason))
    }
    assert (reasons[kept_id], reasons[expired.id]) == ("erasure", "retention")
    assert deletion_event(session, kept_id)["reason"] == "erasure"
    assert deletion_event(session, kept_id)["request_id"] == request_id
    assert deletion_event(session, expired.id)["reason"] == "retention"
    assert "request_id" not in deletion_event(session, expired.id)
    assert report.receipt is not None
    assert report.receipt.recordings == 2 and report.receipt.counts["erasure"] == 1


def test_an_erasure_deletion_of_an_interrupted_sweep_is_named_by_the_next_receipt(
    session: Session, sessions: sessionmaker[Session], bucket: S3ObjectStore, envelope: Envelope
) -> None:
    kept_id, _ = erased_after_hold(session, bucket, envelope)
    # A sweep killed after its batch committed, before its receipt.
    with sessions() as interrupted:
        assert [
            item.recording_id for item in delete_due(interrupted, recording_ids=[kept_id], now=utcnow(), actor=OFFICER)
        ] == [kept_id]
        interrupted.commit()

    report = sweep(sessions, bucket, now=utcnow(), batch=10, actor=OFFICER, dry_run=False)

    assert report.counts["from_interrupted_runs"] == 1
    tombstone = session.get_one(Tombstone, kept_id)
    session.refresh(tombstone)
    assert (tombstone.reason, tombstone.in_receipt) == ("erasure", True)


def test_a_call_the_erasure_deletes_at_once_names_the_request_in_its_event(
    session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    """Found by a year-of-operation pass: the call an erasure deleted itself had a `recording.deleted` without the
    request, which only a call it kept and the sweep deleted later named."""
    person = customer(session)
    call = aged_call(
        session, bucket, envelope, started_at=NOW - timedelta(days=10), purposes=["training"], customer_id=person.id
    )
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="erasure", received_at=NOW, now=NOW
    )

    fulfil_request(session, bucket, actor=OFFICER, request_id=request.id, answer=Answer(), zone=ORG_ZONE)

    event = deletion_event(session, call.id)
    assert (event["reason"], event["request_id"]) == ("erasure", request.id)
    # Found by a review of that fix: the erasure's receipt then counted the call under `erasure`, which the receipts
    # page reads as "recordings an erasure kept until their duty ended", beside "recordings kept: 0".
    receipt = session.scalars(select(DeletionReceipt).where(DeletionReceipt.kind == "erasure")).one()
    assert (receipt.recordings, receipt.counts["kept"], "erasure" in receipt.counts) == (1, 0, False)


def test_a_call_taken_in_after_the_erasure_and_kept_by_a_hold_goes_for_that_erasure(
    session: Session,
    sessions: sessionmaker[Session],
    bucket: S3ObjectStore,
    envelope: Envelope,
    settings: Settings,
) -> None:
    """Found by the go-live backfill's review: an archived call of an erased customer on hold is taken in and kept as
    the erasure keeps one, but was recorded after the erasure, which named only the calls recorded before it: the
    sweep then deleted it with reason `retention`, as if the customer had never asked."""
    person = customer(session)
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="erasure", received_at=NOW, now=NOW
    )
    fulfil_request(session, bucket, actor=OFFICER, request_id=request.id, answer=Answer(), zone=ORG_ZONE)
    hold = holds.place_hold(session, actor=OFFICER, reason="dispute", customer_ref=person.customer_ref).hold
    archived = ingest_file(
        session,
        bucket,
        envelope,
        settings,
        started_at=(NOW - timedelta(days=7)).isoformat(),
        customer_ref=person.customer_ref,
    ).recording
    assert archived.erasure_kept
    holds.release_hold(session, actor=OFFICER, hold_id=hold.id, reason="dispute settled")
    # A call the customer made after the erasure is theirs: due (past its retention, on a changed policy, say), it
    # goes for its retention, not for the erasure.
    later = aged_call(
        session, bucket, envelope, started_at=NOW + timedelta(minutes=1), purposes=["training"], customer_id=person.id
    )
    later.retain_until = NOW - timedelta(minutes=1)
    session.flush()

    sweep(sessions, bucket, now=utcnow(), batch=10, actor=OFFICER, dry_run=False)

    assert deletion_event(session, archived.id)["reason"] == "erasure"
    assert deletion_event(session, archived.id)["request_id"] == request.id
    assert deletion_event(session, later.id)["reason"] == "retention"


def test_a_call_made_between_two_erasures_goes_for_the_second_and_says_so_from_ingest_on(
    session: Session,
    sessions: sessionmaker[Session],
    bucket: S3ObjectStore,
    envelope: Envelope,
    settings: Settings,
) -> None:
    """Found by review: ingest named the latest erasure carried out after the call, the sweep the earliest, so one
    call's trail named two requests; and no test held a call made after an erasure apart from it."""
    person = customer(session)
    first = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="erasure", received_at=NOW, now=NOW
    )
    fulfil_request(session, bucket, actor=OFFICER, request_id=first.id, answer=Answer(), zone=ORG_ZONE)
    first.completed_at = NOW - timedelta(days=60)  # carried out two months ago
    second = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="erasure", received_at=NOW, now=NOW
    )
    fulfil_request(session, bucket, actor=OFFICER, request_id=second.id, answer=Answer(), zone=ORG_ZONE)
    hold = holds.place_hold(session, actor=OFFICER, reason="dispute", customer_ref=person.customer_ref).hold
    calls = {}
    for name, days_ago in (("before_both", 90), ("between", 30)):
        calls[name] = ingest_file(
            session,
            bucket,
            envelope,
            settings,
            started_at=(NOW - timedelta(days=days_ago)).isoformat(),
            customer_ref=person.customer_ref,
        ).recording
    holds.release_hold(session, actor=OFFICER, hold_id=hold.id, reason="dispute settled")
    session.flush()

    sweep(sessions, bucket, now=utcnow(), batch=10, actor=OFFICER, dry_run=False)

    expected = {"before_both": first.id, "between": second.id}
    for name, recording in calls.items():
        ingested = session.scalars(
            select(AuditEvent.details).where(
                AuditEvent.action == "recording.ingested", AuditEvent.object_id == recording.id
            )
        ).one()
        assert (name, ingested["erasure_request_id"]) == (name, expected[name])
        assert (name, deletion_event(session, recording.id)["request_id"]) == (name, expected[name])
