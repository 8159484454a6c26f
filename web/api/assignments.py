"""Assignments ("to evaluate" lists: mine, by hand, in bulk) and evaluation plans (list, create, update, fill)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from flask import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from spectree import Response as SpecResponse

from recordings_service.errors import invalid_from
from recordings_service.evaluations import assignments, handover, plans
from recordings_service.iso_input import Day
from recordings_service.models import EvaluationPlan
from recordings_service.permissions import Permission
from recordings_service.recordings import EntityId, IsoDatetime
from web.access import current_actor, requires
from web.api import api_spec
from web.api.validation import ErrorBody, NoQuery, as_json, next_cursor, refuse_invalid, trimmed
from web.database import db
from web.i18n import organisation_today, organisation_zone

bp = Blueprint("assignments_api", __name__, url_prefix="/api/v1")
TAGS = ["assignments"]
WEEK_PATTERN = r"^\d{4}-W\d{2}$"


class AssignmentOut(BaseModel):
    id: str
    recording_id: str
    assignee_id: str
    agent_ref: str
    queue: str
    started_at: IsoDatetime
    plan_id: str | None = Field(description="the plan that chose the call; none when assigned by hand")
    week: str | None = Field(description="the ISO week a plan chose the call for, e.g. 2026-W49")
    due: date | None
    done: bool = Field(description="the assignee has submitted an evaluation of the call")
    overdue: bool
    assigned_by: str | None
    created_at: IsoDatetime


class AssignmentListOut(BaseModel):
    items: list[AssignmentOut]


class AssignmentBulkOut(AssignmentListOut):
    added: int = Field(description="calls new on the assignee's list")
    listed_before: int = Field(description="calls on the assignee's list already, not yet evaluated")
    done_before: int = Field(description="calls the assignee had evaluated already: nothing new on their list")


class AssignmentPageOut(AssignmentListOut):
    next_cursor: str | None


class AssignmentsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    include_done: bool = Field(default=False, description="also list assignments already evaluated")
    assignee_id: EntityId | None = Field(
        default=None,
        description="this supervisor's list instead of mine (any account, a disabled one too), to hand its calls on",
    )
    overdue: bool = Field(
        default=False,
        description="only the open assignments past their due date, the longest overdue first: everyone's, or "
        "`assignee_id`'s when given (`include_done` does not apply)",
    )
    cursor: str | None = None
    limit: int = Field(default=assignments.MAX_LIST, ge=1, le=assignments.MAX_LIST)


class AssignmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recording_id: EntityId
    assignee_id: str | None = Field(default=None, max_length=26, description="the evaluator; oneself when left out")
    due: Day | None = None


class ReassignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assignee_id: str = Field(min_length=1, max_length=26, description="the evaluator who takes the call over")
    due: Day | None = Field(default=None, description="a new due date; the assignment's own when left out")


class AssignmentBulkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recording_ids: list[EntityId] = Field(min_length=1, max_length=assignments.MAX_BULK)
    assignee_id: str = Field(min_length=1, max_length=26)
    due: Day | None = None


class EvaluationPlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, trimmed(plans.MAX_NAME_CHARS, min_length=1)]
    queue: str | None = Field(default=None, max_length=100)
    agent_ref: str | None = Field(default=None, max_length=100)
    calls_per_agent: int = Field(ge=1, le=plans.MAX_CALLS_PER_AGENT, description="calls per agent per week")
    supervisor_ids: list[EntityId] = Field(min_length=1, description="the supervisors whose lists it fills, evenly")
    seed: int | None = Field(default=None, ge=0, le=plans.MAX_SEED, description="drawn and stored when left out")
    active: bool = True


class EvaluationPlanPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, trimmed(plans.MAX_NAME_CHARS, min_length=1)] | None = None
    queue: str | None = Field(default=None, max_length=100)
    agent_ref: str | None = Field(default=None, max_length=100)
    calls_per_agent: int | None = Field(default=None, ge=1, le=plans.MAX_CALLS_PER_AGENT)
    supervisor_ids: list[EntityId] | None = Field(default=None, min_length=1)
    seed: int | None = Field(default=None, ge=0, le=plans.MAX_SEED)
    active: bool | None = None


class EvaluationPlanOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    queue: str | None
    agent_ref: str | None
    calls_per_agent: int
    supervisor_ids: list[str]
    seed: int
    active: bool
    created_by: str | None
    created_at: IsoDatetime
    updated_at: IsoDatetime


class EvaluationPlanListOut(BaseModel):
    items: list[EvaluationPlanOut]


class PlanFillIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    week: str | None = Field(default=None, pattern=WEEK_PATTERN, description="ISO week; this week when left out")


class PlanFillOut(BaseModel):
    plan_id: str
    week: str
    filled: bool = Field(description="false when the week had been filled before")
    added: int = Field(
        description="calls this fill assigned: all of a first fill's; until the week's Wednesday a later fill tops the "
        "week up with calls that have become eligible since, after that it adds none"
    )
    assignments: list[AssignmentOut] = Field(description="the week's assignments")


def assignment_out(view: assignments.AssignmentView) -> AssignmentOut:
    item = view.assignment
    return AssignmentOut(
        id=item.id,
        recording_id=item.recording_id,
        assignee_id=item.assignee_id,
        agent_ref=item.agent_ref,
        queue=view.queue,
        started_at=view.started_at,
        plan_id=item.plan_id,
        week=item.week,
        due=item.due,
        done=view.done,
        overdue=view.overdue,
        assigned_by=item.assigned_by,
        created_at=item.created_at,
    )


# ---------------------------------------------------------------- assignments


@bp.get("/assignments")
@requires(Permission.EVALUATION_WRITE)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=AssignmentPageOut, HTTP_403=ErrorBody, HTTP_422=ErrorBody),
    tags=TAGS,
    before=refuse_invalid,
)
def list_my_assignments(query: AssignmentsQuery) -> tuple[Response, int]:
    """My "to evaluate" list: overdue first, then by due date; pass `next_cursor` back as `cursor` for the next page.
    A lead reads another supervisor's list (`assignee_id`) or the overdue ones (`overdue=true`) to hand calls on, as
    the assignments page's list does (the same permission)."""
    actor = current_actor()
    assignee_id = actor.id
    if query.assignee_id is not None:
        assignee_id = handover.list_holder(db(), query.assignee_id, field="assignee_id").id
    elif query.overdue:
        assignee_id = None  # everyone's
    views = assignments.list_assignments(
        db(),
        actor=actor,
        today=organisation_today(),
        assignee_id=assignee_id,
        open_only=not query.include_done,
        overdue_only=query.overdue,
        cursor=query.cursor,
        limit=query.limit + 1,
    )
    return as_json(
        AssignmentPageOut(
            items=[assignment_out(view) for view in views[: query.limit]],
            next_cursor=next_cursor([view.assignment for view in views], query.limit, assignments.page_cursor),
        )
    )


@bp.post("/assignments")
@requires(Permission.EVALUATION_WRITE)
@api_spec.validate(
    resp=SpecResponse(HTTP_201=AssignmentOut, HTTP_404=ErrorBody, HTTP_409=ErrorBody, HTTP_422=ErrorBody),
    tags=TAGS,
    before=refuse_invalid,
)
def create_assignment(json: AssignmentIn) -> tuple[Response, int]:
    """Assign one call to an evaluator (oneself by default); audited. A call still open on another supervisor's list
    is refused (409, naming who holds it): hand it on with `/assignments/{id}/reassign` instead."""
    actor = current_actor()
    assignee_id = json.assignee_id or str(actor.id)
    made = assignments.assign_calls(
        db(),
        actor=actor,
        recording_ids=[json.recording_id],
        assignee_id=assignee_id,
        today=organisation_today(),
        due=json.due,
    ).assignments
    body = assignment_out(assignments.describe(db(), made, today=organisation_today())[0])
    db().commit()
    return as_json(body, 201)


@bp.post("/assignments/bulk")
@requires(Permission.EVALUATION_WRITE)
@api_spec.validate(
    resp=SpecResponse(HTTP_201=AssignmentBulkOut, HTTP_404=ErrorBody, HTTP_409=ErrorBody, HTTP_422=ErrorBody),
    tags=TAGS,
    before=refuse_invalid,
)
def assign_in_bulk(json: AssignmentBulkIn) -> tuple[Response, int]:
    """Assign several calls to one evaluator: all of them or, when one is refused, none; audited per call. A call
    still open on another supervisor's list is refused (409, naming who holds it), as one call is. The answer counts
    the calls new on the list, those on it already, and those the assignee had evaluated already."""
    made = assignments.assign_calls(
        db(),
        actor=current_actor(),
        recording_ids=json.recording_ids,
        assignee_id=json.assignee_id,
        today=organisation_today(),
        due=json.due,
    )
    views = assignments.describe(db(), made.assignments, today=organisation_today())
    body = AssignmentBulkOut(
        items=[assignment_out(view) for view in views],
        added=made.added,
        listed_before=made.listed_before,
        done_before=made.done_before,
    )
    db().commit()
    return as_json(body, 201)


@bp.post("/assignments/<assignment_id>/reassign")
@requires(Permission.EVALUATION_WRITE)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=AssignmentOut, HTTP_404=ErrorBody, HTTP_409=ErrorBody, HTTP_422=ErrorBody),
    tags=TAGS,
    before=refuse_invalid,
)
def reassign_assignment(assignment_id: str, json: ReassignIn) -> tuple[Response, int]:
    """Hand an open assignment to another evaluator, who takes it over from its assignee (409 once it is done);
    audited."""
    moved = assignments.reassign(
        db(),
        actor=current_actor(),
        assignment_id=assignment_id,
        assignee_id=json.assignee_id,
        today=organisation_today(),
        due=json.due,
    )
    body = assignment_out(assignments.describe(db(), [moved], today=organisation_today())[0])
    db().commit()
    return as_json(body)


# ---------------------------------------------------------------- plans


@bp.get("/evaluation-plans")
@requires(Permission.EVALUATION_WRITE)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=EvaluationPlanListOut, HTTP_422=ErrorBody), tags=TAGS, before=refuse_invalid
)
def list_evaluation_plans(query: NoQuery) -> tuple[Response, int]:
    """Every evaluation plan, by name."""
    items = [EvaluationPlanOut.model_validate(plan) for plan in plans.list_plans(db())]
    return as_json(EvaluationPlanListOut(items=items))


@bp.post("/evaluation-plans")
@requires(Permission.EVALUATION_WRITE)
@api_spec.validate(resp=SpecResponse(HTTP_201=EvaluationPlanOut, HTTP_422=ErrorBody), tags=TAGS, before=refuse_invalid)
def create_evaluation_plan(json: EvaluationPlanIn) -> tuple[Response, int]:
    """A plan: N calls per agent per week of a queue (or one agent), drawn with a stored seed; audited."""
    plan = plans.create_plan(db(), actor=current_actor(), data=plans.PlanInput(**json.model_dump()))
    body = EvaluationPlanOut.model_validate(plan)
    db().commit()
    return as_json(body, 201)


@bp.patch("/evaluation-plans/<plan_id>")
@requires(Permission.EVALUATION_WRITE)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=EvaluationPlanOut, HTTP_404=ErrorBody, HTTP_422=ErrorBody),
    tags=TAGS,
    before=refuse_invalid,
)
def update_evaluation_plan(plan_id: str, json: EvaluationPlanPatch) -> tuple[Response, int]:
    """Change a plan (the fields given); weeks already filled keep their assignments; audited."""
    current = plans.get_plan(db(), plan_id)
    changes = json.model_dump(exclude_unset=True)
    plan = plans.update_plan(db(), actor=current_actor(), plan_id=plan_id, data=_merged(current, changes))
    body = EvaluationPlanOut.model_validate(plan)
    db().commit()
    return as_json(body)


def _merged(plan: EvaluationPlan, changes: dict[str, object]) -> plans.PlanInput:
    """The plan with `changes`, checked as a whole plan is (a change to null of a field every plan has is 422)."""
    try:
        now = EvaluationPlanIn.model_validate(
            {field: getattr(plan, field) for field in EvaluationPlanIn.model_fields} | changes
        )
    except ValidationError as exc:
        raise invalid_from(exc) from None
    return plans.PlanInput(**now.model_dump())


@bp.post("/evaluation-plans/<plan_id>/fill")
@requires(Permission.EVALUATION_WRITE)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=PlanFillOut, HTTP_404=ErrorBody, HTTP_409=ErrorBody, HTTP_422=ErrorBody),
    tags=TAGS,
    before=refuse_invalid,
)
def fill_evaluation_plan(plan_id: str, json: PlanFillIn) -> tuple[Response, int]:
    """Fill the week's lists from the plan now (the hourly job does the same): once per plan and ISO week, topped up
    until its Wednesday with calls that have become eligible since; a week that has ended is refused."""
    today = organisation_today()  # one day for the default week, the check and the answer, also at midnight
    week = json.week or plans.iso_week(today)
    plans.check_fillable(week, today=today)
    result = plans.fill_plan(db(), actor=current_actor(), plan_id=plan_id, week=week, zone=organisation_zone())
    views = assignments.describe(db(), result.assignments, today=today)
    body = PlanFillOut(
        plan_id=result.plan_id,
        week=result.week,
        filled=result.filled,
        added=result.added,
        assignments=[assignment_out(v) for v in views],
    )
    db().commit()
    return as_json(body)
