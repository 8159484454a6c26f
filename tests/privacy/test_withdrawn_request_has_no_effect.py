"""A subject request withdrawn as registered by mistake has no effect: it is closed with nothing carried out.

Found by an exploratory pass over the subject rights: a withdrawn request is closed (`completed_at` set), and the
clauses that read closed requests took it for one carried out. A withdrawn restriction request was "in force", so
every call of that customer ingested afterwards was restricted, and it could not be lifted; a withdrawn erasure
request kept the customer out of training samples and research batches for good ("erasure requested"), and made
their calls count as kept by an erasure for a legal duty only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.config import Settings
from recordings_service.errors import Conflict
from recordings_service.models import Recording
from recordings_service.models.privacy import customer_asked_for_erasure
from recordings_service.privacy import restriction, subjects
from recordings_service.privacy.retention import erasures_keeping
from recordings_service.privacy.withdrawal import withdraw_request
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.privacy import OFFICER, aged_call, customer
from tests.factories.recordings import ingest_file


def _withdrawn(session: Session, customer_ref: str, kind: str) -> str:
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=customer_ref, kind=kind, received_at=datetime.now(UTC)
    )
    withdraw_request(session, actor=OFFICER, request_id=request.id, reason="Registered for the wrong customer")
    return request.id


def test_a_withdrawn_restriction_restricts_no_call(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    wrong = customer(session)
    request_id = _withdrawn(session, wrong.customer_ref, "restriction")

    later = ingest_file(session, store, envelope, settings, customer_ref=wrong.customer_ref)

    assert later.recording.restricted is False
    with pytest.raises(Conflict) as refused:
        restriction.lift_restriction(session, actor=OFFICER, request_id=request_id)
    assert refused.value.why == "not_restricting"


def test_a_withdrawn_erasure_request_marks_no_call(session: Session, store: S3ObjectStore, envelope: Envelope) -> None:
    wrong = customer(session)
    call = aged_call(
        session, store, envelope, started_at=datetime.now(UTC), purposes=["training"], customer_id=wrong.id
    )
    _withdrawn(session, wrong.customer_ref, "erasure")

    # What training sampling and research selection leave out ("erasure_requested").
    asked = session.scalar(select(customer_asked_for_erasure()).select_from(Recording).where(Recording.id == call.id))
    assert asked is False
    assert erasures_keeping(session, [call.id]) == {}
