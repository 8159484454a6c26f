"""A call an erasure kept for a legal duty keeps only that duty's date when a rectification recomputes it. Found by
review: rectifying `agreement_made` recomputed `retain_until` from all the call's purposes, so the erased
customer's call outlived the duty by its training period (or, with the agreement gone, was kept a year for none)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.models import Recording
from recordings_service.privacy import erasure, holds, retention, subjects
from recordings_service.privacy.fulfilment import Answer, fulfil_request
from recordings_service.privacy.rectification import rectify
from recordings_service.privacy.sweep import due_ids
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.privacy import OFFICER, ORG_ZONE, aged_call, customer, reload

NOW = datetime.now(UTC).replace(microsecond=0)
STARTED = NOW - timedelta(days=30)


def erase(session: Session, bucket: S3ObjectStore, customer_ref: str) -> dict[str, dict[str, object]]:
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=customer_ref, kind="erasure", received_at=NOW, now=NOW
    )
    done = fulfil_request(session, bucket, actor=OFFICER, request_id=request.id, answer=Answer(), zone=ORG_ZONE)
    session.flush()
    return {str(item["recording_id"]): item for item in done.request.outcome["kept"]}


def rectify_call(session: Session, call: Recording, customer_ref: str, **metadata: object) -> Recording:
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=customer_ref, kind="rectification", received_at=NOW, now=NOW
    )
    rectify(session, actor=OFFICER, request_id=request.id, recording_id=call.id, metadata=metadata, zone=ORG_ZONE)
    session.flush()
    return reload(session, call.id)


def agreement_call(session: Session, bucket: S3ObjectStore, envelope: Envelope, customer_id: str) -> Recording:
    return aged_call(
        session,
        bucket,
        envelope,
        started_at=STARTED,
        purposes=["verification", "training"],
        agreement_made=True,
        customer_id=customer_id,
    )


def test_a_rectification_that_removes_the_agreement_leaves_the_kept_call_due_now(
    session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    person = customer(session)
    call = agreement_call(session, bucket, envelope, person.id)
    kept = erase(session, bucket, person.customer_ref)
    assert kept[call.id]["reason"] == erasure.AGREEMENT_EVIDENCE

    corrected = rectify_call(session, call, person.customer_ref, agreement_made=False)

    # No agreement, no duty: the next sweep deletes it (before: the training period, eleven months on).
    assert corrected.retain_until is not None and corrected.retain_until <= utcnow()
    assert call.id in due_ids(session, now=utcnow())


def test_a_rectification_keeping_the_agreement_keeps_the_verification_periods_end(
    session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    retention.apply_policy_change(
        session, actor=OFFICER, rule="training", keep=48, unit="months", basis="QA", zone=ORG_ZONE
    )
    person = customer(session)
    call = agreement_call(session, bucket, envelope, person.id)
    kept = erase(session, bucket, person.customer_ref)
    until = datetime.fromisoformat(str(kept[call.id]["until"]))

    corrected = rectify_call(session, call, person.customer_ref, agreement_made=True, queue="sales-fi")

    assert corrected.retain_until == until  # 36 months of verification, not the 48 of training


def test_a_held_kept_call_rectified_goes_with_the_next_sweep_after_its_release(
    session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    person = customer(session)
    call = aged_call(session, bucket, envelope, started_at=STARTED, purposes=["training"], customer_id=person.id)
    hold = holds.place_hold(session, actor=OFFICER, reason="billing dispute", recording_id=call.id).hold
    kept = erase(session, bucket, person.customer_ref)
    assert kept[call.id]["reason"] == erasure.LEGAL_HOLD

    corrected = rectify_call(session, call, person.customer_ref, agreement_made=False)

    assert corrected.retain_until is not None and corrected.retain_until <= utcnow()
    assert call.id not in due_ids(session, now=utcnow())  # the hold keeps it
    holds.release_hold(session, actor=OFFICER, hold_id=hold.id, reason="dispute settled")
    session.flush()
    assert call.id in due_ids(session, now=utcnow())


def test_a_call_no_erasure_kept_is_recomputed_from_its_purposes(
    session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    person = customer(session)
    call = agreement_call(session, bucket, envelope, person.id)

    corrected = rectify_call(session, call, person.customer_ref, agreement_made=False)

    expected = retention.retain_until_for(
        session, started_at=STARTED, purposes=["verification", "training"], agreement_made=False, zone=ORG_ZONE
    )
    assert corrected.retain_until == expected > utcnow()
