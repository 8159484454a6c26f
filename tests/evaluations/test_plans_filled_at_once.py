"""Two plans of one queue filled at the same time assign each call once. Found by review: each fill drew from
the calls not yet assigned as its own snapshot saw them, so both drew the calls the other had not committed and
the call landed on two lists. Fills now take the plans' row locks, the later one waiting and then drawing from
the calls the earlier left. PostgreSQL only: SQLite has one writer at a time."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from recordings_service.evaluations import plans
from recordings_service.models import Assignment
from recordings_service.runtime import SESSION_ENVELOPE
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.assignments import WEEK, call_in_week, make_plan
from tests.factories.evaluations import actor_of
from tests.factories.postgres_races import private_engine, wait_until_blocked

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine() -> Iterator[Engine]:
    with private_engine("t_plan_fill_race_") as engine:
        yield engine


def test_a_second_plan_filled_meanwhile_waits_and_draws_other_calls(
    engine: Engine, store: ObjectStore, envelope: Envelope
) -> None:
    sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False, info={SESSION_ENVELOPE: envelope})
    with sessions() as session:
        lead, other = make_user(session), make_user(session)
        calls = {call_in_week(session, store, envelope, agent_ref="a1").id for _ in range(4)}
        first = make_plan(session, actor_of(lead), supervisors=[lead], calls_per_agent=2)
        second = make_plan(session, actor_of(lead), supervisors=[other], calls_per_agent=2, seed=8)
        session.commit()

    filling = sessions()
    plans.fill_plan(filling, actor=actor_of(lead), plan_id=first.id, week=WEEK)
    outcome: dict[str, Any] = {}

    def fill_second() -> None:
        with sessions() as session:
            outcome["pid"] = session.execute(text("SELECT pg_backend_pid()")).scalar()
            outcome["assigned"] = len(
                plans.fill_plan(session, actor=actor_of(lead), plan_id=second.id, week=WEEK).assignments
            )
            session.commit()

    thread = threading.Thread(target=fill_second)
    thread.start()
    wait_until_blocked(engine, thread, outcome, what="the second fill")
    filling.commit()
    filling.close()
    thread.join(timeout=20)

    assert outcome.get("assigned") == 2
    with sessions() as session:
        assigned = Counter(session.scalars(select(Assignment.recording_id)))
    assert set(assigned) == calls and set(assigned.values()) == {1}
