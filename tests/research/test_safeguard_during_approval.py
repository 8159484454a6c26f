"""An institute's transfer safeguard replaced while one of its batches is approved: one waits for the other, so the
approval is taken against the safeguard in force when it commits. Found by a probe: the approval read the institute
without locking it and recording a safeguard locked nothing, so on PostgreSQL the approval decided on the institute as
last committed while a safeguard was being recorded (SQLite's write lock already serialised them; an approval under way
already held up a safeguard's change, both waiting for the audit trail's head)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from recordings_service.audit import Actor
from recordings_service.models import Institute, ResearchBatch
from recordings_service.models.account import Role
from recordings_service.models.research import BatchState, SafeguardKind
from recordings_service.research import batches
from recordings_service.research.institutes import Safeguard, set_safeguard
from recordings_service.runtime import SESSION_ENVELOPE, Runtime
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of
from tests.factories.own_database import second_waits_for_first
from tests.factories.research import draft, institute, research_call

CLAUSES = Safeguard(SafeguardKind.SCC, reference="SCC-2021/914", on=date(2026, 11, 2))


def _setup(sessions: sessionmaker[Session], runtime: Runtime, safeguard: Safeguard | None) -> tuple[str, str, Actor]:
    """A draft batch of an institute in the United States with `safeguard`, and an officer who may approve it."""
    with sessions() as setup:
        research_call(setup, runtime.store, runtime.envelope)
        creator = make_user(setup, role=Role.COMPLIANCE)
        officer = actor_of(make_user(setup, role=Role.COMPLIANCE))
        abroad = institute(setup, country="US", safeguard=safeguard)
        batch_id = draft(setup, runtime, creator, abroad.id).id
        setup.commit()
    return abroad.id, batch_id, officer


def _record_clauses(institute_id: str) -> Callable[[Session], object]:
    def record(session: Session) -> object:
        actor = Actor(id=None, name="other officer", role=Role.COMPLIANCE)
        return set_safeguard(session, actor=actor, institute_id=institute_id, safeguard=CLAUSES)

    return record


def _approve(officer: Actor, batch_id: str) -> Callable[[Session], object]:
    def approve(session: Session) -> object:
        return batches.approve_batch(session, actor=officer, batch_id=batch_id)

    return approve


def _outcome(sessions: sessionmaker[Session], institute_id: str, batch_id: str) -> tuple[BatchState, str | None]:
    with sessions() as check:
        batch = check.get(ResearchBatch, batch_id)
        abroad = check.get(Institute, institute_id)
        assert batch is not None and abroad is not None
        return batch.state, abroad.safeguard_kind


def test_an_approval_waits_for_the_safeguard_being_recorded_and_decides_on_it(
    own_engine: Engine, runtime: Runtime
) -> None:
    """Before: the approval read the institute as committed, without the safeguard being recorded, and was refused
    `no_safeguard` at once (on PostgreSQL), a decision on a safeguard that was no longer the institute's."""
    sessions = sessionmaker(own_engine, expire_on_commit=False, info={SESSION_ENVELOPE: runtime.envelope})
    institute_id, batch_id, officer = _setup(sessions, runtime, None)

    outcome = second_waits_for_first(sessions, _record_clauses(institute_id), _approve(officer, batch_id))

    assert isinstance(outcome, ResearchBatch), outcome
    assert _outcome(sessions, institute_id, batch_id) == (BatchState.APPROVED, SafeguardKind.SCC)


def test_a_safeguard_replaced_during_an_approval_waits_for_it(own_engine: Engine, runtime: Runtime) -> None:
    sessions = sessionmaker(own_engine, expire_on_commit=False, info={SESSION_ENVELOPE: runtime.envelope})
    institute_id, batch_id, officer = _setup(sessions, runtime, Safeguard(SafeguardKind.ADEQUACY))

    outcome = second_waits_for_first(sessions, _approve(officer, batch_id), _record_clauses(institute_id))

    assert isinstance(outcome, Institute), outcome
    assert _outcome(sessions, institute_id, batch_id) == (BatchState.APPROVED, SafeguardKind.SCC)
