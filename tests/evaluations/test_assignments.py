"""Evaluation plans and assignments: seeded draw, N per agent per week, idempotent fill, bulk assign refusals,
done / overdue / coverage read from the evaluations themselves."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jobs import evaluation_plans
from jobs.schedule import JOBS
from recordings_service.errors import Conflict, Invalid, NotFound
from recordings_service.evaluations import assignments, plans
from recordings_service.models import Assignment, AuditEvent, PlanFill, Recording
from recordings_service.models.account import Role
from recordings_service.models.evaluation import EvaluationState
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.assignments import LAST_WEEK, WEEK, call_in_week, make_plan, submitted
from tests.factories.evaluations import actor_of
from tests.factories.recordings import make_recording

MONDAY, THURSDAY = date(2026, 11, 30), date(2026, 12, 3)


def team_calls(session: Session, store: ObjectStore, envelope: Envelope) -> dict[str, list[Recording]]:
    """Last week's eligible sales calls: five of agent-a, four of agent-b, one of agent-c."""
    calls: dict[str, list[Recording]] = {}
    for agent, count in (("agent-a", 5), ("agent-b", 4), ("agent-c", 1)):
        calls[agent] = [
            call_in_week(session, store, envelope, agent_ref=agent, day=index % 7) for index in range(count)
        ]
    return calls


def test_a_plan_assigns_n_calls_per_agent_from_last_weeks_eligible_calls_spread_over_its_supervisors(
    session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead, other = make_user(session), make_user(session)
    eligible = team_calls(session, store, envelope)
    eligible_ids = {call.id for calls in eligible.values() for call in calls}
    # None of these may be chosen.
    excluded = [
        call_in_week(session, store, envelope, week=WEEK, agent_ref="agent-a"),  # this week, not last
        call_in_week(session, store, envelope, queue="billing", agent_ref="agent-a"),
        call_in_week(session, store, envelope, agent_ref="agent-a", restricted=True),
        call_in_week(session, store, envelope, agent_ref="agent-a", status="stored"),  # not transcribed
    ]
    evaluated = call_in_week(session, store, envelope, agent_ref="agent-b")
    submitted(session, evaluated, other)
    already = call_in_week(session, store, envelope, agent_ref="agent-b")
    assignments.assign_calls(
        session, actor=actor_of(lead), recording_ids=[already.id], assignee_id=other.id, today=THURSDAY
    )
    plan = make_plan(session, actor_of(lead), supervisors=[lead, other], calls_per_agent=2)

    result = plans.fill_plan(session, actor=actor_of(lead), plan_id=plan.id, week=WEEK)

    chosen = result.assignments
    assert result.filled
    assert Counter(item.agent_ref for item in chosen) == {"agent-a": 2, "agent-b": 2, "agent-c": 1}
    assert {item.recording_id for item in chosen} <= eligible_ids
    assert not {item.recording_id for item in chosen} & {call.id for call in [*excluded, evaluated, already]}
    assert sorted(Counter(item.assignee_id for item in chosen).values()) == [2, 3]
    assert {item.due for item in chosen} == {date(2026, 12, 6)}  # the Sunday of the week filled
    assert {item.week for item in chosen} == {WEEK}


def test_the_draw_is_reproducible_with_the_seed_and_changes_with_it(
    session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead = make_user(session)
    team_calls(session, store, envelope)
    plan = make_plan(session, actor_of(lead), supervisors=[lead], calls_per_agent=2, seed=1234)

    def fill_and_undo() -> list[str]:
        savepoint = session.begin_nested()
        result = plans.fill_plan(session, actor=actor_of(lead), plan_id=plan.id, week=WEEK)
        chosen = [item.recording_id for item in result.assignments]
        savepoint.rollback()
        return chosen

    first = fill_and_undo()
    assert fill_and_undo() == first
    assert plans.draw(plan, week=WEEK, calls=plans.eligible_calls(session, plan, week=WEEK), planned={}) == [
        (call.agent_ref, call.id) for call in (session.get(Recording, rid) for rid in first) if call is not None
    ]
    plan.seed = 98765
    assert fill_and_undo() != first


def test_filling_is_idempotent_per_plan_and_week(session: Session, store: ObjectStore, envelope: Envelope) -> None:
    lead = make_user(session)
    team_calls(session, store, envelope)
    plan = make_plan(session, actor_of(lead), supervisors=[lead], calls_per_agent=1)

    thursday = datetime.combine(THURSDAY, time(12), tzinfo=UTC)  # past the days a week is topped up
    first = plans.fill_plan(session, actor=actor_of(lead), plan_id=plan.id, week=WEEK, now=thursday)
    call_in_week(session, store, envelope, agent_ref="agent-d")  # arrives late: the week is filled already
    again = plans.fill_plan(session, actor=actor_of(lead), plan_id=plan.id, week=WEEK, now=thursday)

    assert first.filled and not again.filled
    assert sorted(item.id for item in again.assignments) == sorted(item.id for item in first.assignments)
    assert session.scalar(select(func.count()).select_from(Assignment)) == 3
    assert session.scalar(select(func.count()).select_from(PlanFill)) == 1
    # The job fills every active plan the same way.
    assert plans.fill_active_plans(session, week=WEEK, now=thursday) == {
        "filled": 0,
        "topped_up": 0,
        "already": 1,
        "skipped": 0,
        "assigned": 0,
    }


def test_a_plan_needs_a_queue_or_agent_and_supervisors_who_can_evaluate(session: Session) -> None:
    lead, trainer = make_user(session), make_user(session, role=Role.TRAINER)
    with pytest.raises(Invalid) as no_scope:
        make_plan(session, actor_of(lead), supervisors=[lead], queue=None)
    assert no_scope.value.field == "queue"
    with pytest.raises(Invalid) as not_evaluator:
        make_plan(session, actor_of(lead), supervisors=[lead, trainer])
    assert (not_evaluator.value.field, not_evaluator.value.code) == ("supervisor_ids", "not_evaluator")
    with pytest.raises(Invalid) as too_many:
        make_plan(session, actor_of(lead), supervisors=[lead], calls_per_agent=0)
    assert too_many.value.field == "calls_per_agent"
    with pytest.raises(Invalid) as bad_week:
        plans.week_monday("2026-49")
    assert bad_week.value.field == "week"


def test_a_plan_whose_supervisors_left_is_skipped_until_fixed(
    session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead, leaver = make_user(session), make_user(session)
    team_calls(session, store, envelope)
    plan = make_plan(session, actor_of(lead), supervisors=[leaver])
    leaver.active = False
    with pytest.raises(Conflict):
        plans.fill_plan(session, actor=actor_of(lead), plan_id=plan.id, week=WEEK)
    assert plans.fill_active_plans(session, week=WEEK)["skipped"] == 1
    assert session.scalar(select(func.count()).select_from(PlanFill)) == 0


# ---------------------------------------------------------------- by hand and in bulk


def test_bulk_assign_puts_the_calls_on_the_list_in_order_once_and_audits_each(
    session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead, supervisor = make_user(session), make_user(session)
    calls = [make_recording(session, store, envelope) for _ in range(3)]
    ids = [call.id for call in calls]

    made = assignments.assign_calls(
        session,
        actor=actor_of(lead),
        recording_ids=[*ids, ids[0]],
        assignee_id=supervisor.id,
        today=THURSDAY,
        due=THURSDAY,
    ).assignments
    again = assignments.assign_calls(
        session, actor=actor_of(lead), recording_ids=ids[:1], assignee_id=supervisor.id, today=THURSDAY
    ).assignments

    assert [item.recording_id for item in made] == ids
    assert {(item.assignee_id, item.due, item.assigned_by) for item in made} == {(supervisor.id, THURSDAY, lead.id)}
    assert again[0].id == made[0].id and again[0].due == THURSDAY
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "assignment.created")).all()
    assert sorted(event.object_id for event in events) == sorted(ids)
    assert all(event.details["assignee_id"] == supervisor.id for event in events)


@pytest.mark.parametrize(
    ("case", "error", "field"),
    [
        ("unknown_call", NotFound, None),
        ("restricted_call", NotFound, None),
        ("deleted_call", NotFound, None),
        ("trainer", Invalid, "assignee_id"),
        ("compliance", Invalid, "assignee_id"),
        ("disabled", Invalid, "assignee_id"),
        ("unknown_assignee", Invalid, "assignee_id"),
        ("no_calls", Invalid, "recording_ids"),
    ],
)
def test_bulk_assign_refuses_the_whole_batch(
    case: str, error: type[Exception], field: str | None, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead, supervisor = make_user(session), make_user(session)
    good = make_recording(session, store, envelope)
    ids = [good.id]
    assignee_id = supervisor.id
    if case == "unknown_call":
        ids.append("01JZZZZZZZZZZZZZZZZZZZZZZZ")
    elif case == "restricted_call":
        ids.append(make_recording(session, store, envelope, restricted=True).id)
    elif case == "deleted_call":
        ids.append(make_recording(session, store, envelope, status="deleted").id)
    elif case == "unknown_assignee":
        assignee_id = "01JZZZZZZZZZZZZZZZZZZZZZZZ"
    elif case == "no_calls":
        ids = []
    elif case in {"trainer", "compliance"}:
        assignee_id = make_user(session, role=case if case == "trainer" else Role.COMPLIANCE).id
    elif case == "disabled":
        assignee_id = make_user(session, active=False).id

    with pytest.raises(error) as refused:
        assignments.assign_calls(
            session, actor=actor_of(lead), recording_ids=ids, assignee_id=assignee_id, today=THURSDAY
        )

    assert getattr(refused.value, "field", None) == field
    assert session.scalar(select(func.count()).select_from(Assignment)) == 0
    if case == "restricted_call":
        refusal = refused.value.refusal  # type: ignore[attr-defined]
        assert (refusal.action, refusal.object_id) == ("assignment.refused", ids[-1])


# ---------------------------------------------------------------- done, overdue, coverage


def test_an_assignment_is_done_once_its_assignee_submits_an_evaluation(
    session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead, supervisor = make_user(session), make_user(session)
    by_other, drafted, finished, late = (make_recording(session, store, envelope) for _ in range(4))
    assignments.assign_calls(
        session,
        actor=actor_of(lead),
        recording_ids=[by_other.id, drafted.id, finished.id],
        assignee_id=supervisor.id,
        today=MONDAY,
        due=date(2026, 12, 10),
    )
    assignments.assign_calls(
        session,
        actor=actor_of(lead),
        recording_ids=[late.id],
        assignee_id=supervisor.id,
        today=MONDAY,
        due=date(2026, 12, 1),
    )
    submitted(session, by_other, lead)
    submitted(session, drafted, supervisor, state=EvaluationState.DRAFT)
    submitted(session, finished, supervisor)

    queue = assignments.list_assignments(session, actor=actor_of(supervisor), today=THURSDAY, assignee_id=supervisor.id)
    overdue = assignments.list_assignments(session, actor=actor_of(lead), today=THURSDAY, overdue_only=True)

    assert [view.assignment.recording_id for view in queue] == [late.id, by_other.id, drafted.id]
    assert [view.overdue for view in queue] == [True, False, False]
    assert [view.assignment.recording_id for view in overdue] == [late.id]


def test_coverage_counts_evaluated_out_of_planned_per_agent(
    session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead = make_user(session)
    team_calls(session, store, envelope)
    plan = make_plan(session, actor_of(lead), supervisors=[lead], calls_per_agent=2)
    chosen = plans.fill_plan(session, actor=actor_of(lead), plan_id=plan.id, week=WEEK).assignments
    first_of_a = next(item for item in chosen if item.agent_ref == "agent-a")
    recording = session.get(Recording, first_of_a.recording_id)
    assert recording is not None
    submitted(session, recording, lead)
    # A call assigned by hand is not part of any plan's coverage.
    extra = call_in_week(session, store, envelope, week=LAST_WEEK, agent_ref="agent-a")
    assignments.assign_calls(
        session, actor=actor_of(lead), recording_ids=[extra.id], assignee_id=lead.id, today=THURSDAY
    )

    assert assignments.coverage(session, week=WEEK) == [
        assignments.Coverage("agent-a", planned=2, evaluated=1),
        assignments.Coverage("agent-b", planned=2, evaluated=0),
        assignments.Coverage("agent-c", planned=1, evaluated=0),
    ]


def test_the_declared_job_fills_this_weeks_lists_once(
    session: Session, store: ObjectStore, envelope: Envelope, runtime: Runtime
) -> None:
    lead = make_user(session)
    team_calls(session, store, envelope)
    make_plan(session, actor_of(lead), supervisors=[lead], calls_per_agent=1)
    session.commit()
    job = next(spec for spec in JOBS if spec.id == "evaluation_plans")
    thursday_noon = datetime.combine(THURSDAY, time(12), tzinfo=UTC)

    first = evaluation_plans.fill_plans(runtime, now=thursday_noon)
    again = evaluation_plans.fill_plans(runtime, now=thursday_noon + timedelta(hours=1))

    assert first == {"filled": 1, "topped_up": 0, "already": 0, "skipped": 0, "assigned": 3}
    assert again == {"filled": 0, "topped_up": 0, "already": 1, "skipped": 0, "assigned": 0}
    assert job.run is evaluation_plans.fill_plans
    weeks = session.scalars(select(Assignment.week)).all()
    assert weeks == [WEEK] * 3


def test_last_week_is_counted_in_the_organisations_time_zone(
    session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead = make_user(session)
    helsinki = ZoneInfo("Europe/Helsinki")
    # Half past midnight on Mondays in Helsinki: still Sunday in UTC.
    first_of_last_week = datetime(2026, 11, 23, 0, 30, tzinfo=helsinki)
    first_of_this_week = datetime(2026, 11, 30, 0, 30, tzinfo=helsinki)
    inside = make_recording(session, store, envelope, status="transcribed", started_at=first_of_last_week)
    make_recording(session, store, envelope, status="transcribed", started_at=first_of_this_week)
    plan = make_plan(session, actor_of(lead), supervisors=[lead], calls_per_agent=5)

    assert plans.eligible_calls(session, plan, week=WEEK, zone=helsinki) == {"agent-1": [inside.id]}
    result = plans.fill_plan(session, actor=actor_of(lead), plan_id=plan.id, week=WEEK, zone=helsinki)
    assert [item.recording_id for item in result.assignments] == [inside.id]
