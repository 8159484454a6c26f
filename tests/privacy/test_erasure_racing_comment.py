"""An erasure meeting a comment being written on one of the customer's later calls: the erasure deleted the calls
one by one, each deletion writing its event (which locks the audit chain's head to the commit) before the next call
was locked, while the comment held its call and then wrote its event: a deadlock on PostgreSQL, one of the two a 500.
Suspected by an exploratory pass; the erasure now locks every call of the customer before it writes any event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from recordings_service.audit import record_event
from recordings_service.db import utcnow
from recordings_service.models import Recording
from recordings_service.privacy.erasure import erase_customer
from recordings_service.privacy.subjects import create_request, customer_recording_ids
from recordings_service.recordings import still_live
from recordings_service.runtime import SESSION_ENVELOPE
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import SYSTEM
from tests.factories.postgres_races import start_beside, wait_until_blocked
from tests.factories.privacy import OFFICER, ORG_ZONE, customer
from tests.factories.recordings import make_recording

pytestmark = pytest.mark.postgres


def test_an_erasure_meeting_a_comment_on_a_later_call_waits_and_both_succeed(
    pg_engine: Engine, store: ObjectStore, envelope: Envelope
) -> None:
    sessions = sessionmaker(pg_engine, expire_on_commit=False, info={SESSION_ENVELOPE: envelope})
    with sessions() as setup:
        person = customer(setup)
        for days in (3, 2):
            started = datetime.now(UTC) - timedelta(days=days)
            make_recording(setup, store, envelope, customer_id=person.id, started_at=started, purposes=[])
        request = create_request(
            setup, actor=OFFICER, customer_ref=person.customer_ref, kind="erasure", received_at=utcnow()
        )
        later = customer_recording_ids(setup, person.id)[-1]  # the erasure reaches it last
        setup.commit()

    commenting = sessions()  # a comment on the later call holds it (share lock), then writes its event
    assert still_live(commenting, commenting.get_one(Recording, later))
    erasure, outcome = start_beside(
        sessions,
        lambda session: erase_customer(
            session, store, actor=OFFICER, request_id=request.id, now=utcnow(), zone=ORG_ZONE
        ),
    )
    wait_until_blocked(pg_engine, erasure, outcome, what="the erasure")
    record_event(commenting, actor=SYSTEM, action="annotation.added", object_type="recording", object_id=later)
    commenting.commit()
    commenting.close()
    erasure.join(timeout=30)

    assert outcome.get("done") is True, outcome
    with sessions() as session:
        assert customer_recording_ids(session, person.id) == []
