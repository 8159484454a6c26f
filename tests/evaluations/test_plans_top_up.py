"""A week's fill is topped up with calls that became eligible after it. Found by review: a call of late Sunday
still being transcribed when Monday's first fill ran was never drawn (that fill had happened, and next week's looks
at another week). Until the week's Wednesday ends a later fill adds such calls, up to N per agent, each once."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.evaluations import plans
from recordings_service.evaluations.assignments import coverage
from recordings_service.models import Assignment, AuditEvent, PlanFill
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.assignments import WEEK, call_in_week, make_plan
from tests.factories.evaluations import actor_of


def at(day: date, hour: int = 0) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


MONDAY, WEDNESDAY, THURSDAY = date(2026, 11, 30), date(2026, 12, 2), date(2026, 12, 3)


def test_a_late_sunday_call_transcribed_after_the_first_fill_is_drawn_by_a_later_one(
    session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead, other = make_user(session), make_user(session)
    make_plan_calls = [call_in_week(session, store, envelope, agent_ref="a1", day=2) for _ in range(3)]
    late = call_in_week(session, store, envelope, agent_ref="a2", day=6, status="transcribing")
    later = call_in_week(session, store, envelope, agent_ref="a2", day=6, status="transcribing")
    plan = make_plan(session, actor_of(lead), supervisors=[lead, other], calls_per_agent=1)
    actor = actor_of(lead)

    first = plans.fill_plan(session, actor=actor, plan_id=plan.id, week=WEEK, now=at(MONDAY))
    late.status = "transcribed"
    session.flush()
    topped = plans.fill_plan(session, actor=actor, plan_id=plan.id, week=WEEK, now=at(WEDNESDAY, 23))
    again = plans.fill_plan(session, actor=actor, plan_id=plan.id, week=WEEK, now=at(WEDNESDAY, 23))
    later.status = "transcribed"  # a2 has their call for the week: nothing more of theirs is drawn
    session.flush()
    full = plans.fill_plan(session, actor=actor, plan_id=plan.id, week=WEEK, now=at(WEDNESDAY, 23))

    assert (first.filled, first.added, topped.filled, topped.added, again.added, full.added) == (
        True,
        1,
        False,
        1,
        0,
        0,
    )
    rows = session.scalars(select(Assignment).where(Assignment.plan_id == plan.id)).all()
    assert Counter(row.agent_ref for row in rows) == {"a1": 1, "a2": 1}
    [added] = [row for row in rows if row.agent_ref == "a2"]
    [drawn] = [row for row in rows if row.agent_ref == "a1"]
    assert added.recording_id == late.id and drawn.recording_id in {call.id for call in make_plan_calls}
    assert (added.week, added.due, added.assignee_id != drawn.assignee_id) == (WEEK, date(2026, 12, 6), True)
    assert {item.id for item in topped.assignments} == {row.id for row in rows}
    assert session.scalars(select(PlanFill.assigned)).one() == 2
    events = session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == plan.id)).all()
    assert events.count("plan.topped_up") == 1  # an hourly fill adding nothing leaves no event


def test_after_the_weeks_wednesday_filling_again_adds_nothing(
    session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead = make_user(session)
    late = call_in_week(session, store, envelope, agent_ref="a2", day=6, status="transcribing")
    plan = make_plan(session, actor_of(lead), supervisors=[lead], calls_per_agent=1)

    plans.fill_plan(session, actor=actor_of(lead), plan_id=plan.id, week=WEEK, now=at(MONDAY))
    late.status = "transcribed"
    session.flush()
    counts = plans.fill_active_plans(session, week=WEEK, now=at(THURSDAY))

    assert (counts["already"], counts["topped_up"], counts["assigned"]) == (1, 0, 0)
    assert session.scalars(select(Assignment)).all() == []


def test_a_planned_call_restricted_or_deleted_since_the_fill_is_replaced_by_a_top_up(
    session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    """Found by exploratory testing of the QA workflow: the week's coverage no longer counted a planned call erased
    since (1 of 2 planned), yet a top-up counted it still and drew nothing, though another of the agent's calls was
    eligible: the agent stayed under-sampled for the week."""
    lead = make_user(session)
    calls = [call_in_week(session, store, envelope, agent_ref="a1", day=2) for _ in range(3)]
    plan = make_plan(session, actor_of(lead), supervisors=[lead], calls_per_agent=2)
    actor = actor_of(lead)
    first = plans.fill_plan(session, actor=actor, plan_id=plan.id, week=WEEK, now=at(MONDAY))
    drawn = {item.recording_id for item in first.assignments}
    [left_out] = [call for call in calls if call.id not in drawn]
    gone = next(call for call in calls if call.id in drawn)
    gone.restricted = True  # as a restriction (Art. 18) of the customer does; an erasure keeps it or deletes it
    session.flush()
    assert [(row.agent_ref, row.planned) for row in coverage(session, week=WEEK)] == [("a1", 1)]

    topped = plans.fill_plan(session, actor=actor, plan_id=plan.id, week=WEEK, now=at(WEDNESDAY, 23))

    assert topped.added == 1
    assert left_out.id in {item.recording_id for item in topped.assignments}
    assert [(row.agent_ref, row.planned) for row in coverage(session, week=WEEK)] == [("a1", 2)]
