"""A plan filling supervisors' lists at the same moment as a lead assigning one of its calls by hand: the call goes
to one of them, never to both.

Found by review of the hand assignment's lock (test_assignments_held_by_another_race.py): a fill took only the
plans' row locks and read the calls without the calls' own, so a fill and a hand assignment at once each found the
call on nobody's list and both wrote theirs: two supervisors evaluating one call, each unaware of the other. The fill
now locks its candidate calls in id order, as hand assignment does, and reads them again after. Either way round,
the later waits: a fill after the lead skips the call, a lead after the fill is refused (`held_by_another`).
PostgreSQL only: SQLite has one writer at a time."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from recordings_service.errors import Conflict
from recordings_service.evaluations import assignments, plans
from recordings_service.models import Assignment, User
from recordings_service.runtime import SESSION_ENVELOPE
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.assignments import WEEK, call_in_week, make_plan
from tests.factories.evaluations import actor_of
from tests.factories.postgres_races import private_engine, wait_until_blocked

pytestmark = pytest.mark.postgres


@dataclass(frozen=True)
class Scene:
    engine: Engine
    sessions: sessionmaker[Session]
    lead_id: str
    planned_id: str  # the plan's supervisor
    by_hand_id: str  # the supervisor the lead assigns the call to
    plan_id: str
    recording_id: str


@pytest.fixture
def scene(store: ObjectStore, envelope: Envelope) -> Iterator[Scene]:
    with private_engine("t_plan_hand_race_") as engine:
        sessions: sessionmaker[Session] = sessionmaker(
            engine, expire_on_commit=False, info={SESSION_ENVELOPE: envelope}
        )
        with sessions() as session:
            lead, planned, by_hand = make_user(session), make_user(session), make_user(session)
            call = call_in_week(session, store, envelope, queue="sales", agent_ref="a1")
            plan = make_plan(session, actor_of(lead), supervisors=[planned], calls_per_agent=1)
            session.commit()
        yield Scene(engine, sessions, lead.id, planned.id, by_hand.id, plan.id, call.id)


def _assign_by_hand(scene: Scene, session: Session) -> None:
    lead = actor_of(session.get_one(User, scene.lead_id))
    assignments.assign_calls(
        session, actor=lead, recording_ids=[scene.recording_id], assignee_id=scene.by_hand_id, today=date.today()
    )


def _fill(scene: Scene, session: Session) -> None:
    plans.fill_plan(session, actor=actor_of(session.get_one(User, scene.lead_id)), plan_id=scene.plan_id, week=WEEK)


def _race(scene: Scene, first: Callable[[Scene, Session], None], second: Callable[[Scene, Session], None]) -> Any:
    """`first` in a transaction left open, `second` in a thread until it waits for a lock, then `first` commits;
    what `second` came to (`refused` with the refusal's why, or `done`)."""
    holding = scene.sessions()
    first(scene, holding)
    outcome: dict[str, Any] = {}

    def run_second() -> None:
        with scene.sessions() as session:
            outcome["pid"] = session.execute(text("SELECT pg_backend_pid()")).scalar()
            try:
                second(scene, session)
            except Conflict as exc:
                outcome["refused"] = exc.why
                return
            session.commit()
            outcome["done"] = True

    thread = threading.Thread(target=run_second)
    thread.start()
    try:
        wait_until_blocked(scene.engine, thread, outcome, what="the second of the two")
    finally:
        holding.commit()
        holding.close()
        thread.join(timeout=20)
    return outcome


def _holders(scene: Scene) -> list[str]:
    with scene.sessions() as session:
        query = select(Assignment.assignee_id).where(Assignment.recording_id == scene.recording_id)
        return list(session.scalars(query))


def test_a_plan_filled_while_a_lead_assigns_the_call_by_hand_waits_and_skips_it(scene: Scene) -> None:
    outcome = _race(scene, _assign_by_hand, _fill)

    assert outcome.get("done") is True
    assert _holders(scene) == [scene.by_hand_id]


def test_a_lead_assigning_by_hand_while_a_plan_fills_waits_and_is_refused(scene: Scene) -> None:
    outcome = _race(scene, _fill, _assign_by_hand)

    assert outcome.get("refused") == "held_by_another"
    assert _holders(scene) == [scene.planned_id]
