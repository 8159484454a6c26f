"""A call an erasure kept serves that legal duty only (Art. 17(3)): when the duty ends the sweep deletes it. Found by
exploratory testing: a call kept on legal hold stayed, once the hold was released, until its training period ended
a year on, and a call kept as evidence of an agreement stayed until its longer training period ended."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from jobs.retention import sweep
from recordings_service.db import utcnow
from recordings_service.privacy import erasure, holds, retention, subjects
from recordings_service.privacy.fulfilment import Answer, fulfil_request
from recordings_service.privacy.sweep import due_ids
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.privacy import OFFICER, ORG_ZONE, aged_call, customer, reload

NOW = datetime.now(UTC).replace(microsecond=0)


def erase(session: Session, bucket: S3ObjectStore, customer_ref: str) -> dict[str, dict[str, object]]:
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=customer_ref, kind="erasure", received_at=NOW, now=NOW
    )
    done = fulfil_request(session, bucket, actor=OFFICER, request_id=request.id, answer=Answer(), zone=ORG_ZONE)
    session.flush()
    return {str(item["recording_id"]): item for item in done.request.outcome["kept"]}


def test_a_call_kept_on_hold_is_swept_once_the_hold_is_released(
    session: Session, sessions: sessionmaker[Session], bucket: S3ObjectStore, envelope: Envelope
) -> None:
    person = customer(session)
    held = aged_call(
        session, bucket, envelope, started_at=NOW - timedelta(days=10), purposes=["training"], customer_id=person.id
    )
    hold = holds.place_hold(session, actor=OFFICER, reason="billing dispute", recording_id=held.id).hold

    kept = erase(session, bucket, person.customer_ref)

    assert kept[held.id]["reason"] == erasure.LEGAL_HOLD
    assert held.id not in due_ids(session, now=utcnow())  # the hold keeps it
    # A later change of the training policy does not give it back its training period.
    retention.apply_policy_change(
        session, actor=OFFICER, rule="training", keep=13, unit="months", basis="QA", zone=ORG_ZONE
    )
    holds.release_hold(session, actor=OFFICER, hold_id=hold.id, reason="dispute settled")
    session.flush()
    assert held.id in due_ids(session, now=utcnow())
    report = sweep(sessions, bucket, now=utcnow(), batch=10, actor=OFFICER, dry_run=False)
    assert report.recording_ids == [held.id]
    assert reload(session, held.id).status == "deleted"


def test_a_call_kept_as_agreement_evidence_goes_when_its_verification_period_ends(
    session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    retention.apply_policy_change(
        session, actor=OFFICER, rule="training", keep=48, unit="months", basis="QA", zone=ORG_ZONE
    )
    person = customer(session)
    agreement = aged_call(
        session,
        bucket,
        envelope,
        started_at=NOW - timedelta(days=30),
        purposes=["verification", "training"],
        agreement_made=True,
        customer_id=person.id,
    )

    kept = erase(session, bucket, person.customer_ref)

    until = datetime.fromisoformat(str(kept[agreement.id]["until"]))
    assert kept[agreement.id]["reason"] == erasure.AGREEMENT_EVIDENCE
    assert reload(session, agreement.id).retain_until == until  # 36 months, not the 48 of training
    assert agreement.id in due_ids(session, now=until + timedelta(seconds=1))
