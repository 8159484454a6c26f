"""Hold changes at the same moment, found by an exploratory pass of the jobs. On PostgreSQL, two releases of the
two holds keeping a call (its own and its customer's) left its `legal_hold` flag set with no hold in force (never
swept, never counted overdue), and a release beside a new customer hold cleared the flag under that hold: each
computed the flag in the statement that waited for the other's row lock, reading the holds as before the other's
change. And a hold placed on a call while the retention sweep deleted it was accepted (201), audited as holding
nothing, on a call that was gone. The rows are now locked before the flag is computed, and a placement reads the
call's status again under its lock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from jobs.retention import RETENTION_ACTOR
from recordings_service.errors import Conflict
from recordings_service.models import AuditEvent, LegalHold, Recording
from recordings_service.privacy import holds
from recordings_service.privacy.deletion import delete_due
from recordings_service.runtime import SESSION_ENVELOPE
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.own_database import second_waits_for_first
from tests.factories.privacy import OFFICER, aged_call, customer

NOW = datetime.now(UTC)


def held_call(engine: Engine, store: ObjectStore, envelope: Envelope) -> tuple[sessionmaker[Session], str, str, str]:
    """A call past its retention, its customer's ref, and the id of the call's own hold."""
    sessions = sessionmaker(engine, expire_on_commit=False, info={SESSION_ENVELOPE: envelope})
    with sessions() as setup:
        person = customer(setup)
        call = aged_call(
            setup, store, envelope, started_at=NOW - timedelta(days=400), purposes=[], customer_id=person.id
        )
        own = holds.place_hold(setup, actor=OFFICER, reason="dispute A", recording_id=call.id).hold
        setup.commit()
    return sessions, call.id, person.customer_ref, own.id


def release(hold_id: str) -> Callable[[Session], object]:
    return lambda session: holds.release_hold(session, actor=OFFICER, hold_id=hold_id, reason="settled")


def flag_and_holds(sessions: sessionmaker[Session], call_id: str) -> tuple[bool, int]:
    with sessions() as session:
        call = session.get_one(Recording, call_id)
        return call.legal_hold, len(session.scalars(select(LegalHold).where(holds.ACTIVE)).all())


def test_both_holds_of_a_call_released_at_once_clear_its_flag(
    own_engine: Engine, store: ObjectStore, envelope: Envelope
) -> None:
    sessions, call_id, customer_ref, own = held_call(own_engine, store, envelope)
    with sessions() as setup:
        customers = holds.place_hold(setup, actor=OFFICER, reason="dispute B", customer_ref=customer_ref).hold
        setup.commit()

    second_waits_for_first(sessions, release(own), release(customers.id))

    assert flag_and_holds(sessions, call_id) == (False, 0)


def test_a_release_beside_a_new_customer_hold_keeps_the_flag(
    own_engine: Engine, store: ObjectStore, envelope: Envelope
) -> None:
    sessions, call_id, customer_ref, own = held_call(own_engine, store, envelope)

    def place_customer_hold(session: Session) -> object:
        return holds.place_hold(session, actor=OFFICER, reason="dispute B", customer_ref=customer_ref)

    second_waits_for_first(sessions, place_customer_hold, release(own))

    assert flag_and_holds(sessions, call_id) == (True, 1)


def test_a_hold_on_a_call_the_sweep_is_deleting_is_refused(
    own_engine: Engine, store: ObjectStore, envelope: Envelope
) -> None:
    sessions, call_id, _, own = held_call(own_engine, store, envelope)
    with sessions() as setup:
        holds.release_hold(setup, actor=OFFICER, hold_id=own, reason="settled")
        setup.commit()

    def sweep(session: Session) -> object:
        return delete_due(session, recording_ids=[call_id], now=NOW, actor=RETENTION_ACTOR)

    def place(session: Session) -> object:
        return holds.place_hold(session, actor=OFFICER, reason="court order 17", recording_id=call_id)

    outcome = second_waits_for_first(sessions, sweep, place)

    assert isinstance(outcome, Conflict) and outcome.why == "recording_deleted", outcome
    with sessions() as session:
        assert session.scalars(select(LegalHold).where(holds.ACTIVE)).all() == []
        placed = session.scalars(select(AuditEvent).where(AuditEvent.action == "legal_hold.placed")).all()
        assert [event.object_id for event in placed] == [own]  # the call's own hold, placed and released before


def test_a_release_after_the_hold_was_read_sees_the_other_release(
    own_engine: Engine, store: ObjectStore, envelope: Envelope
) -> None:
    """A handler reading the hold before releasing it (to show it, to refuse another's) kept that copy in the session:
    the locking read returned it as it was before the other release committed, and the hold was released twice."""
    sessions, _, _, own = held_call(own_engine, store, envelope)

    def as_a_page_would(session: Session) -> object:
        shown = session.get_one(LegalHold, own)  # kept, as a handler keeps what it read for its page
        released = holds.release_hold(session, actor=OFFICER, hold_id=own, reason="settled again")
        assert released is shown
        return released

    outcome = second_waits_for_first(sessions, release(own), as_a_page_would)

    assert isinstance(outcome, Conflict) and outcome.why == "hold_released", outcome
    with sessions() as session:
        assert session.get_one(LegalHold, own).release_reason == "settled"
        released = select(AuditEvent).where(AuditEvent.object_id == own, AuditEvent.action == "legal_hold.released")
        assert len(session.scalars(released).all()) == 1
