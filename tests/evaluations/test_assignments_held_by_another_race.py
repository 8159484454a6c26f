"""Two leads assigning one call by hand to two supervisors at the same moment: the second waits and is refused.

Read without a lock, each assignment found the call on nobody's list, and both were written: two supervisors
evaluating one call, each unaware of the other (test_assignments_held_by_another.py refuses it one at a time).
Assigning locks the calls' rows first. PostgreSQL only: SQLite has one writer at a time."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from recordings_service.errors import Conflict
from recordings_service.evaluations import assignments
from recordings_service.models import Assignment, User
from recordings_service.runtime import SESSION_ENVELOPE
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of
from tests.factories.postgres_races import private_engine, wait_until_blocked
from tests.factories.recordings import make_recording

pytestmark = pytest.mark.postgres


@dataclass(frozen=True)
class Scene:
    sessions: sessionmaker[Session]
    lead_id: str
    first_id: str
    second_id: str
    recording_id: str


@pytest.fixture
def scene(store: ObjectStore, envelope: Envelope) -> Iterator[tuple[Engine, Scene]]:
    with private_engine("t_assign_race_") as engine:
        sessions: sessionmaker[Session] = sessionmaker(
            engine, expire_on_commit=False, info={SESSION_ENVELOPE: envelope}
        )
        with sessions() as session:
            lead, first, second = make_user(session), make_user(session), make_user(session)
            call = make_recording(session, store, envelope)
            session.commit()
        yield engine, Scene(sessions, lead.id, first.id, second.id, call.id)


def _assign(scene: Scene, session: Session, assignee_id: str) -> None:
    lead = actor_of(session.get_one(User, scene.lead_id))
    assignments.assign_calls(
        session, actor=lead, recording_ids=[scene.recording_id], assignee_id=assignee_id, today=date.today()
    )


def test_the_second_of_two_hand_assignments_at_once_waits_and_is_refused(scene: tuple[Engine, Scene]) -> None:
    engine, race = scene
    assigning = race.sessions()
    _assign(race, assigning, race.first_id)
    outcome: dict[str, Any] = {}

    def second() -> None:
        with race.sessions() as session:
            outcome["pid"] = session.execute(text("SELECT pg_backend_pid()")).scalar()
            try:
                _assign(race, session, race.second_id)
            except Conflict as exc:
                outcome["refused"] = exc.why
                return
            session.commit()
            outcome["done"] = True

    thread = threading.Thread(target=second)
    thread.start()
    wait_until_blocked(engine, thread, outcome, what="the second assignment")
    assigning.commit()
    assigning.close()
    thread.join(timeout=20)

    assert outcome.get("refused") == "held_by_another"
    with race.sessions() as session:
        query = select(Assignment.assignee_id).where(Assignment.recording_id == race.recording_id)
        assert list(session.scalars(query)) == [race.first_id]
