"""A call the customer's erasure covers is not taken in later. Found by an exploratory pass of a go-live backfill:
an archive imported after an erasure was carried out brought the customer's older calls back, transcribed and
listed to QA, as if the erasure had never been."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.config import Settings
from recordings_service.errors import Invalid
from recordings_service.models import AuditEvent, Recording
from recordings_service.privacy import holds, subjects
from recordings_service.privacy.fulfilment import Answer, fulfil_request
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.privacy import OFFICER, ORG_ZONE, customer
from tests.factories.recordings import call_metadata, ingest_file, make_token, post_ingest

NOW = datetime.now(UTC).replace(microsecond=0)


def erased(session: Session, store: S3ObjectStore) -> tuple[str, str]:
    """A customer whose erasure was carried out just now: (their ref, the request's id)."""
    person = customer(session)
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="erasure", received_at=NOW, now=NOW
    )
    fulfil_request(session, store, actor=OFFICER, request_id=request.id, answer=Answer(), zone=ORG_ZONE)
    session.flush()
    return person.customer_ref, request.id


def stored(session: Session, ref: str) -> int:
    return session.scalar(select(func.count()).select_from(Recording).where(Recording.external_call_id == ref)) or 0


def test_a_call_made_before_a_carried_out_erasure_is_refused_naming_it(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    ref, request_id = erased(session, store)
    last_week = (NOW - timedelta(days=7)).isoformat()

    with pytest.raises(Invalid) as refused:
        ingest_file(session, store, envelope, settings, started_at=last_week, customer_ref=ref, external_call_id="b1")

    assert (refused.value.field, refused.value.code) == ("customer_ref", "erased")
    assert request_id in refused.value.message
    assert stored(session, "b1") == 0
    # A call the customer makes after the erasure is theirs to make: taken in.
    later = ingest_file(
        session,
        store,
        envelope,
        settings,
        started_at=(datetime.now(UTC) + timedelta(minutes=2)).isoformat(),
        customer_ref=ref,
    )
    assert later.created


def test_a_hold_on_the_customer_keeps_such_a_call_as_the_erasure_would_have(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    ref, request_id = erased(session, store)
    hold = holds.place_hold(session, actor=OFFICER, reason="dispute about an old call", customer_ref=ref).hold

    held = ingest_file(
        session, store, envelope, settings, started_at=(NOW - timedelta(days=7)).isoformat(), customer_ref=ref
    )

    # Found by a review: the held call became an ordinary one, kept a year and listed to QA once the hold ended; the
    # erasure keeps such a call for compliance only, due as soon as the hold is released.
    recording = held.recording
    session.refresh(recording)
    assert held.created and recording.legal_hold and recording.erasure_kept
    assert recording.retain_until is not None and recording.retain_until <= datetime.now(UTC)
    # Its trail says why it was taken in: the erasure keeps it, for the hold (as the erasure's own keeping says).
    ingested = session.scalars(
        select(AuditEvent.details).where(
            AuditEvent.action == "recording.ingested", AuditEvent.object_id == recording.id
        )
    ).one()
    assert (ingested["erasure_request_id"], ingested["legal_holds"]) == (request_id, hold.id)


def test_a_call_that_is_evidence_of_an_agreement_is_kept_until_its_evidence_period_ends(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    """Found by a review: such a call was refused, though the erasure itself keeps one (Art. 17(3))."""
    ref, _ = erased(session, store)
    started = NOW - timedelta(days=7)

    agreed = ingest_file(
        session,
        store,
        envelope,
        settings,
        started_at=started.isoformat(),
        customer_ref=ref,
        agreement_made=True,
        purposes=["verification", "training"],
    ).recording

    session.refresh(agreed)
    assert agreed.erasure_kept and agreed.retain_until is not None
    # The verification period (36 months), not training's: kept for that duty only.
    assert started + timedelta(days=3 * 365 - 5) < agreed.retain_until < started + timedelta(days=3 * 366 + 5)


def test_the_ingest_api_answers_422_naming_customer_ref(
    session: Session, store: S3ObjectStore, client: FlaskClient
) -> None:
    ref, request_id = erased(session, store)
    token = make_token(session)

    answer = post_ingest(
        client, token, call_metadata(customer_ref=ref, started_at=(NOW - timedelta(days=1)).isoformat())
    )

    assert answer.status_code == 422, answer.get_json()
    body = answer.get_json()
    assert (body["field"], body["error"]) == ("customer_ref", "erased") and request_id in body["message"]
