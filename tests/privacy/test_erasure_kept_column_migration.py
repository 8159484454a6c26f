"""Migration 0038 marks the calls erasures kept before it (`Recording.erasure_kept`, which `visible_to` reads instead
of asking the subject requests for every call a search reads): a call recorded before its customer's answered
erasure, not one recorded after it, nor one of a withdrawn request or of another customer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service import schema
from recordings_service.models import Customer, Recording, SubjectRequest
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.migrations import database_at, stored_before

BEFORE = "0037_research_access_ended"


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_the_calls_an_erasure_kept_are_marked(
    kind: str, tmp_path: Path, store: S3ObjectStore, envelope: Envelope
) -> None:
    now = datetime.now(UTC)
    with database_at(BEFORE, kind, tmp_path) as engine:
        with Session(engine) as session:
            erased, withdrawn, other = (Customer(customer_ref=f"cust-0038-{n}") for n in range(3))
            session.add_all([erased, withdrawn, other])
            session.flush()
            ids = {
                "kept": stored_before(session, store, envelope, customer_id=erased.id),
                "other_customer": stored_before(session, store, envelope, customer_id=other.id),
                "withdrawn_request": stored_before(session, store, envelope, customer_id=withdrawn.id),
                "no_customer": stored_before(session, store, envelope),
                # The customer called again after the erasure.
                "recorded_after": stored_before(
                    session, store, envelope, customer_id=erased.id, created_at=now + timedelta(minutes=5)
                ),
            }
            for customer, outcome in ((erased, {}), (withdrawn, {"withdrawn": True, "reason": "wrong customer"})):
                session.add(
                    SubjectRequest(
                        customer_id=customer.id,
                        kind="erasure",
                        received_at=now - timedelta(days=3),
                        due_at=now + timedelta(days=27),
                        completed_at=now + timedelta(minutes=1),  # answered after the calls were recorded
                        outcome=outcome,
                    )
                )
            session.commit()

        schema.upgrade(engine)

        with Session(engine) as session:
            marked = dict(
                session.execute(
                    select(Recording.id, Recording.erasure_kept).where(Recording.id.in_(ids.values()))
                ).all()
            )
    assert {name: marked[recording_id] for name, recording_id in ids.items()} == {
        "kept": True,
        "other_customer": False,
        "withdrawn_request": False,
        "no_customer": False,
        "recorded_after": False,
    }
