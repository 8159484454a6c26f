"""A call an erasure kept as evidence of an agreement is kept for that duty only, so a policy change may end the
duty sooner and never keeps the call longer. Found by review: a policy change left such calls out of its
recomputation, so a shorter verification period (the legal duty itself) did not shorten how long an erased
customer's call was kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.models import Recording
from recordings_service.privacy import retention, subjects
from recordings_service.privacy.fulfilment import Answer, fulfil_request
from recordings_service.privacy.sweep import due_ids
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.privacy import OFFICER, ORG_ZONE, aged_call, customer, reload

NOW = datetime.now(UTC).replace(microsecond=0)


def kept_agreement_call(session: Session, bucket: S3ObjectStore, envelope: Envelope) -> Recording:
    """A call of two months ago with an agreement made on it, kept by its customer's erasure as the evidence."""
    person = customer(session)
    call = aged_call(
        session,
        bucket,
        envelope,
        started_at=NOW - timedelta(days=60),
        purposes=["verification", "training"],
        agreement_made=True,
        customer_id=person.id,
    )
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="erasure", received_at=NOW, now=NOW
    )
    fulfil_request(session, bucket, actor=OFFICER, request_id=request.id, answer=Answer(), zone=ORG_ZONE)
    session.flush()
    return reload(session, call.id)


def change(session: Session, rule: str, keep: int, unit: str = "months") -> None:
    retention.apply_policy_change(
        session, actor=OFFICER, rule=rule, keep=keep, unit=unit, basis="review", zone=ORG_ZONE
    )
    session.flush()


def test_a_shorter_verification_period_ends_the_duty_and_the_call_is_due(
    session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    call = kept_agreement_call(session, bucket, envelope)
    assert call.retain_until is not None and call.retain_until > utcnow()

    preview = retention.preview_policy_change(session, rule="verification", keep=1, unit="months", zone=ORG_ZONE)
    change(session, "verification", 1)

    assert preview.due_now >= 1
    kept = reload(session, call.id)
    assert kept.retain_until is not None and kept.retain_until <= utcnow()
    assert call.id in due_ids(session, now=utcnow())


def test_no_policy_change_keeps_the_call_longer(session: Session, bucket: S3ObjectStore, envelope: Envelope) -> None:
    call = kept_agreement_call(session, bucket, envelope)
    until = call.retain_until

    change(session, "training", 48)
    assert reload(session, call.id).retain_until == until  # its other purposes no longer count

    change(session, "verification", 48)
    assert reload(session, call.id).retain_until == until  # a longer period does not bring the erased data back
