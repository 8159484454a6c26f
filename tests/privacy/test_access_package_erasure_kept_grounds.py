"""An access package states, for a call kept despite the customer's erasure request, the ground that keeps it and
only the periods that still apply. Found by review: such a call's metadata.json listed the retention periods of all
its purposes (training, quality study) as if they still kept it, and never said why it outlived the erasure."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from recordings_service.privacy import holds, subjects
from recordings_service.privacy.access_package import package_entry
from recordings_service.privacy.fulfilment import Answer, fulfil_request
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.privacy import OFFICER, ORG_ZONE, aged_call, customer

NOW = datetime.now(UTC).replace(microsecond=0)


def retention_in_package(session: Session, recording_id: str, customer_id: str) -> dict[str, Any]:
    entry = package_entry(session, recording_id=recording_id, customer_id=customer_id, zone=ORG_ZONE)
    assert entry is not None
    return dict(json.loads(entry.documents[f"recordings/{recording_id}/metadata.json"])["retention"])


def test_an_erasure_kept_call_states_its_ground_and_only_the_periods_that_keep_it(
    session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    person = customer(session)
    held = aged_call(
        session, bucket, envelope, started_at=NOW - timedelta(days=10), purposes=["training"], customer_id=person.id
    )
    holds.place_hold(session, actor=OFFICER, reason="billing dispute", recording_id=held.id)
    agreement = aged_call(
        session,
        bucket,
        envelope,
        started_at=NOW - timedelta(days=30),
        purposes=["verification", "training", "quality_study"],
        agreement_made=True,
        customer_id=person.id,
    )
    erasure = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="erasure", received_at=NOW, now=NOW
    )
    done = fulfil_request(session, bucket, actor=OFFICER, request_id=erasure.id, answer=Answer(), zone=ORG_ZONE)
    assert {item["recording_id"] for item in done.request.outcome["kept"]} == {held.id, agreement.id}
    session.flush()

    on_hold = retention_in_package(session, held.id, person.id)
    evidence = retention_in_package(session, agreement.id, person.id)

    assert on_hold["periods"] == []  # not training's: the hold alone keeps it
    assert on_hold["kept_despite_erasure"]["erasure_request_id"] == erasure.id
    assert [ground["ground"] for ground in on_hold["kept_despite_erasure"]["grounds"]] == ["legal_hold"]
    assert [period["rule"] for period in evidence["periods"]] == ["verification"]
    (ground,) = evidence["kept_despite_erasure"]["grounds"]
    assert ground["ground"] == "agreement_evidence" and ground["until"] == evidence["retain_until"]
    assert "17(3)" in ground["basis"]


def test_a_call_no_erasure_kept_lists_the_periods_of_its_purposes(
    session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    person = customer(session)
    call = aged_call(
        session, bucket, envelope, started_at=NOW, purposes=["training", "quality_study"], customer_id=person.id
    )

    retention = retention_in_package(session, call.id, person.id)

    assert sorted(period["rule"] for period in retention["periods"]) == ["quality_study", "training"]
    assert "kept_despite_erasure" not in retention
