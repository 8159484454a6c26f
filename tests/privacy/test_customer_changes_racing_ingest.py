"""A legal hold or a restriction placed (or lifted) on a customer while a call of theirs is being ingested covers
that call as it covers the customer's others.

Found by reading ingest beside the holds as a compliance officer placing a hold during a dispute: ingest read the
customer's holds before the hold committed, and the hold's update of the customer's calls could not see the call
not yet committed, so the new call kept `legal_hold` false (`callvault retention check` counted it overdue, the
page showed no hold) and, alike, a restriction left it playable. Released or lifted meanwhile, the call stayed held
(never swept) or restricted. Now ingest share-locks the customer's row before it reads them, and each change locks it
for update: one waits for the other. PostgreSQL only: SQLite has one writer at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from threading import Thread
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from recordings_service.config import Settings
from recordings_service.db import utcnow
from recordings_service.errors import Invalid
from recordings_service.models import Recording
from recordings_service.privacy import holds, restriction, subjects
from recordings_service.privacy.fulfilment import Answer, fulfil_request
from recordings_service.runtime import SESSION_ENVELOPE
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.postgres_races import private_engine, wait_until_blocked
from tests.factories.privacy import OFFICER, ORG_ZONE, customer
from tests.factories.recordings import ingest_file

pytestmark = pytest.mark.postgres
NOW = utcnow()
# (set up committed, then made in the transaction the ingest races) for one customer reference
Change = Callable[[Session, str], Callable[[Session], Any]]


def place_hold(session: Session, ref: str) -> Callable[[Session], Any]:
    return lambda changing: holds.place_hold(changing, actor=OFFICER, reason="billing dispute", customer_ref=ref)


def release_hold(session: Session, ref: str) -> Callable[[Session], Any]:
    hold = holds.place_hold(session, actor=OFFICER, reason="billing dispute", customer_ref=ref).hold
    return lambda changing: holds.release_hold(changing, actor=OFFICER, hold_id=hold.id, reason="settled")


def restrict(session: Session, ref: str) -> Callable[[Session], Any]:
    request = subjects.create_request(session, actor=OFFICER, customer_ref=ref, kind="restriction", received_at=NOW)
    return lambda changing: restriction.restrict_processing(changing, actor=OFFICER, request_id=request.id)


def lift(session: Session, ref: str) -> Callable[[Session], Any]:
    request = subjects.create_request(session, actor=OFFICER, customer_ref=ref, kind="restriction", received_at=NOW)
    restriction.restrict_processing(session, actor=OFFICER, request_id=request.id)
    return lambda changing: restriction.lift_restriction(changing, actor=OFFICER, request_id=request.id)


# What the change leaves the new call: (held, restricted).
EXPECTED: dict[Change, tuple[bool, bool]] = {
    place_hold: (True, False),
    release_hold: (False, False),
    restrict: (False, True),
    lift: (False, False),
}


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    """One schema for the module: each test races on a customer of its own."""
    with private_engine("t_ingest_race_") as engine:
        yield engine


def in_thread(sessions: sessionmaker[Session], work: Callable[[Session], Any], outcome: dict[str, Any]) -> Thread:
    """`work` in a session of its own, committed, on a thread started now; its backend's id in `outcome`."""

    def run() -> None:
        with sessions() as session:
            outcome["pid"] = session.execute(text("SELECT pg_backend_pid()")).scalar()
            outcome["done"] = work(session)
            session.commit()

    thread = Thread(target=run)
    thread.start()
    return thread


def race(
    engine: Engine, sessions: sessionmaker[Session], first: Callable[[Session], Any], then: Callable[[Session], Any]
) -> tuple[Any, Any]:
    """`first` in a transaction kept open until `then`, on a thread, waits for it; both committed: what each
    returned."""
    started = sessions()
    outcome: dict[str, Any] = {}
    did_first = first(started)
    thread = in_thread(sessions, then, outcome)
    wait_until_blocked(engine, thread, outcome, what=f"{then.__name__} after {first.__name__}")
    started.commit()
    started.close()
    thread.join(timeout=20)
    return did_first, outcome["done"]


@pytest.mark.parametrize("change", list(EXPECTED), ids=lambda change: change.__name__)
@pytest.mark.parametrize("first", ["change", "ingest"])
def test_a_call_ingested_while_its_customer_changes_follows_the_change(
    engine: Engine, bucket: S3ObjectStore, envelope: Envelope, base_settings: Settings, change: Change, first: str
) -> None:
    sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False, info={SESSION_ENVELOPE: envelope})
    with sessions() as session:
        ref = customer(session).customer_ref
        make = change(session, ref)
        session.commit()

    def ingest(session: Session) -> str:
        return ingest_file(session, bucket, envelope, base_settings, customer_ref=ref).recording.id

    if first == "change":
        _, recording_id = race(engine, sessions, make, ingest)
    else:
        recording_id, _ = race(engine, sessions, ingest, make)

    with sessions() as session:
        call = session.get_one(Recording, recording_id)
        assert (call.legal_hold, call.restricted) == EXPECTED[change]


@pytest.mark.parametrize("first", ["erasure", "ingest"])
def test_a_call_ingested_while_its_customer_is_erased_is_refused_or_erased(
    engine: Engine, bucket: S3ObjectStore, envelope: Envelope, base_settings: Settings, first: str
) -> None:
    """Found by a review: the erasure took no lock on the customer, so an older call ingested meanwhile was neither
    listed by the erasure nor refused by the ingest (which could not see the erasure yet): it stayed, stored."""
    sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False, info={SESSION_ENVELOPE: envelope})
    with sessions() as session:
        ref = customer(session).customer_ref
        request = subjects.create_request(
            session, actor=OFFICER, customer_ref=ref, kind="erasure", received_at=NOW, now=NOW
        )
        session.commit()

    def erase(session: Session) -> Any:
        return fulfil_request(session, bucket, actor=OFFICER, request_id=request.id, answer=Answer(), zone=ORG_ZONE)

    def ingest(session: Session) -> str:
        last_week = (utcnow() - timedelta(days=7)).isoformat()
        try:
            return ingest_file(
                session, bucket, envelope, base_settings, customer_ref=ref, started_at=last_week
            ).recording.id
        except Invalid as refused:
            return refused.code

    if first == "erasure":
        _, ingested = race(engine, sessions, erase, ingest)
        assert ingested == "erased"
    else:
        recording_id, _ = race(engine, sessions, ingest, erase)
        with sessions() as session:
            assert session.get_one(Recording, recording_id).status == "deleted"
