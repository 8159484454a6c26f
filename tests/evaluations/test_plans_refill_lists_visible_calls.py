"""Filling a week again answers with that week's assignments: those of calls restricted or deleted since the
fill are left out, as the lists leave them out, rather than naming a restricted call's queue and start."""

from __future__ import annotations

from sqlalchemy.orm import Session

from recordings_service.evaluations import plans
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.assignments import WEEK, call_in_week, make_plan
from tests.factories.evaluations import actor_of, delete_call


def test_a_second_fill_leaves_out_the_calls_restricted_or_deleted_since(
    session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead = make_user(session)
    kept, restricted, deleted = (call_in_week(session, store, envelope, agent_ref=f"agent-{n}") for n in range(3))
    plan = make_plan(session, actor_of(lead), supervisors=[lead], calls_per_agent=1)
    first = plans.fill_plan(session, actor=actor_of(lead), plan_id=plan.id, week=WEEK)
    assert {item.recording_id for item in first.assignments} == {kept.id, restricted.id, deleted.id}

    restricted.restricted = True
    session.flush()
    delete_call(session, store, lead, deleted, "customer erasure")
    again = plans.fill_plan(session, actor=actor_of(lead), plan_id=plan.id, week=WEEK)

    assert not again.filled
    assert [item.recording_id for item in again.assignments] == [kept.id]
