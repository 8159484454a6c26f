"""A week's coverage per agent (evaluated of planned) on the dashboard: a planned call deleted or restricted before
anyone evaluated it has left its assignee's list and can no longer be evaluated, so it is no longer planned; one
evaluated before it was deleted still counts, evaluated."""

from __future__ import annotations

from sqlalchemy.orm import Session

from recordings_service.evaluations import assignments, plans
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.assignments import WEEK, call_in_week, make_plan, submitted
from tests.factories.evaluations import actor_of, delete_call


def test_calls_that_can_no_longer_be_evaluated_leave_the_weeks_coverage(
    session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead = make_user(session)
    evaluated, deleted, restricted, waiting, evaluated_then_deleted = (
        call_in_week(session, store, envelope, agent_ref="agent-a", day=day) for day in range(5)
    )
    plan = make_plan(session, actor_of(lead), supervisors=[lead], calls_per_agent=5)
    assert len(plans.fill_plan(session, actor=actor_of(lead), plan_id=plan.id, week=WEEK).assignments) == 5
    submitted(session, evaluated, lead)
    submitted(session, evaluated_then_deleted, lead)
    delete_call(session, store, lead, deleted, "customer erasure")
    delete_call(session, store, lead, evaluated_then_deleted, "customer erasure")
    restricted.restricted = True
    session.flush()

    assert assignments.coverage(session, week=WEEK) == [assignments.Coverage("agent-a", planned=3, evaluated=2)]
    listed = assignments.list_assignments(session, actor=actor_of(lead), today=plans.week_monday(WEEK))
    assert [view.assignment.recording_id for view in listed] == [waiting.id]
