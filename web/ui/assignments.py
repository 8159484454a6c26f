"""A supervisor's "to evaluate" list and the evaluation plans that fill it each week."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from recordings_service.errors import Conflict, DomainError, Invalid
from recordings_service.evaluations import assignments, handover, plans
from recordings_service.models import User
from recordings_service.permissions import Permission
from web.access import current_actor, current_can, requires
from web.api.validation import next_cursor
from web.database import db
from web.i18n import organisation_today, organisation_zone, plan_week_label
from web.links import safe_next
from web.ui.error_messages import error_message, flash_error
from web.ui.form_dates import optional_date
from web.ui.list_pages import page_url
from web.ui.numbers import whole_number
from web.ui.refused_form import RefusedForm, refusal_status, refused_form

bp = Blueprint("assignments", __name__, url_prefix="/assignments")
TEXT_FIELDS = ("name", "queue", "agent_ref", "calls_per_agent", "seed")
DASHBOARD_ROWS = 20
PAGE_SIZE = 50
SEED_DIGITS = len(str(plans.MAX_SEED))


@dataclass(frozen=True)
class ListPage:
    """One page of an assignment list as the page shows it: its rows, how many the whole list has, and the cursor of
    the next page; or, for a page link edited or out of date, why it was refused."""

    views: list[assignments.AssignmentView]
    total: int
    next_cursor: str | None = None
    refused: str | None = None


@bp.get("")
@requires(Permission.EVALUATION_WRITE)
def index() -> tuple[str, int]:
    """My open assignments (overdue first), a supervisor's open or overdue ones (or everyone's overdue ones) to hand
    on, and the plans; each list a page at a time, the page its own cursor names (`cursor`, `held_cursor`)."""
    actor = current_actor()
    holder = request.args.get("assignee", "")
    overdue = request.args.get("overdue") == "1"
    mine = _list_page("cursor", assignee_id=actor.id)
    sent = _unknown_holder(holder) if holder else None
    shown = (holder or overdue) and sent is None
    held = _list_page("held_cursor", assignee_id=holder or None, overdue_only=overdue) if shown else None
    supervisors, plan_list = handover.assignment_holders(db()), plans.list_plans(db())
    on_plans = handover.plan_supervisor_choices(
        db(), [user_id for plan in plan_list for user_id in plan.supervisor_ids]
    )
    page = render_template(
        "assignments/index.html",
        mine=mine,
        holder=holder,
        overdue=overdue,
        held=held,
        sent=sent,
        page_url=page_url("assignments.index"),
        # Where a Reassign link returns the lead to: this page as it is (its lists, their pages, who was chosen).
        here=request.full_path.rstrip("?"),
        supervisors=supervisors,
        plans=plan_list,
        names=_names([*supervisors, *on_plans]),
        week=plans.iso_week(organisation_today()),
    )
    return page, 422 if sent or mine.refused or (held and held.refused) else 200


def _names(people: list[tuple[User, bool]]) -> dict[str, str]:
    """Each account's name as the lists show it, marked when it can no longer evaluate (a disabled account): the
    open work of a supervisor who has left is what most needs handing on, and read as a bare account id, or as
    "(cannot evaluate)" alone on a plan, the lead could not tell whose it was."""
    return {
        user.id: (user.display_name or user.username) + ("" if may else f" {gettext('(cannot evaluate)')}")
        for user, may in people
    }


def _unknown_holder(holder: str) -> RefusedForm | None:
    """The supervisor choice refused, as the API refuses its `assignee_id`, when it names no account (a link edited
    or the account gone); None for a known one. An empty list would read as "nothing to hand on"."""
    try:
        handover.list_holder(db(), holder, field="assignee_id")
    except Invalid as exc:
        return RefusedForm(form="held", values={"assignee": holder}, message=error_message(exc), field="assignee")
    return None


def _list_page(param: str, *, assignee_id: str | None, overdue_only: bool = False) -> ListPage:
    """The page of a list that its cursor `param` names (the first without one); a cursor edited or out of date is
    refused, as the call list refuses one, rather than read as the first page."""
    actor, day = current_actor(), organisation_today()
    total = assignments.count_assignments(
        db(), actor=actor, today=day, assignee_id=assignee_id, overdue_only=overdue_only
    )
    try:
        views = assignments.list_assignments(
            db(),
            actor=actor,
            today=day,
            assignee_id=assignee_id,
            overdue_only=overdue_only,
            cursor=request.args.get(param) or None,
            limit=PAGE_SIZE + 1,
        )
    except Invalid as exc:
        return ListPage([], total, refused=error_message(exc))
    cursor = next_cursor([view.assignment for view in views], PAGE_SIZE, assignments.page_cursor)
    return ListPage(views[:PAGE_SIZE], total, cursor)


@bp.route("/<assignment_id>/reassign", methods=["GET", "POST"])
@requires(Permission.EVALUATION_WRITE)
def reassign(assignment_id: str) -> Response | str | tuple[str, int]:
    """Hand an open assignment to another supervisor (its own is ill or away); the form again when refused."""
    if request.method == "GET":
        return _reassign_page(assignment_id)
    try:
        moved = assignments.reassign(
            db(),
            actor=current_actor(),
            assignment_id=assignment_id,
            assignee_id=request.form.get("assignee_id", ""),
            today=organisation_today(),
            due=optional_date(request.form.get("due", "").strip(), field="due"),
        )
    except (Invalid, Conflict) as exc:
        refused = refused_form("reassign", exc)
        return _reassign_page(assignment_id, refused=refused), refusal_status(exc)
    taker = assignments.evaluator(db(), moved.assignee_id, field="assignee_id")
    db().commit()
    flash(gettext("The call is now on %(name)s's list.", name=taker.display_name or taker.username))
    # Back to the list the Reassign link was followed from (everyone's overdue, a page on); else to the previous
    # supervisor's list, where the rest of an absent supervisor's calls wait to be handed on.
    return redirect(_back_to_list() or url_for("assignments.index", assignee=request.form.get("from") or None))


def _back_to_list() -> str | None:
    """The `back` the Reassign link and form carry, when it is an address of the assignments page or of the
    dashboard (whose overdue list has Reassign links too); else None: a form never sends a lead to another page,
    let alone another site (an open redirect lends a phishing page our name)."""
    target = safe_next(request.values.get("back"), "")
    lists = (url_for("assignments.index"), url_for("dashboard.index"))
    return target if target and urlsplit(target).path in lists else None


def _reassign_page(assignment_id: str, *, refused: RefusedForm | None = None) -> str:
    assignment = assignments.get_assignment(db(), actor=current_actor(), assignment_id=assignment_id)
    back = _back_to_list()
    return render_template(
        "assignments/reassign.html",
        view=assignments.describe(db(), [assignment], today=organisation_today())[0],
        holder=db().get(User, assignment.assignee_id),
        evaluators=[user for user in handover.evaluators(db()) if user.id != assignment.assignee_id],
        sent=refused,
        back=back,
        # The way back names where it leads: the dashboard's overdue list is not "the list" of this page.
        to_dashboard=back is not None and urlsplit(back).path == url_for("dashboard.index"),
    )


@bp.route("/plans/new", methods=["GET", "POST"])
@requires(Permission.EVALUATION_WRITE)
def new_plan() -> Response | str | tuple[str, int]:
    if request.method == "GET":
        return _plan_page(None, {"calls_per_agent": "2"}, [current_actor().id or ""], active=True)
    return _save_plan(None)


@bp.route("/plans/<plan_id>", methods=["GET", "POST"])
@requires(Permission.EVALUATION_WRITE)
def edit_plan(plan_id: str) -> Response | str | tuple[str, int]:
    plan = plans.get_plan(db(), plan_id)
    if request.method == "GET":
        values = {
            "name": plan.name,
            "queue": plan.queue or "",
            "agent_ref": plan.agent_ref or "",
            "calls_per_agent": str(plan.calls_per_agent),
            "seed": str(plan.seed),
        }
        return _plan_page(plan_id, values, plan.supervisor_ids, active=plan.active)
    return _save_plan(plan_id)


def _save_plan(plan_id: str | None) -> Response | tuple[str, int]:
    """Create (no id) or update the plan from the posted form; the form again, naming the field, when invalid."""
    try:
        data = _plan_input(request.form)
        if plan_id is None:
            plan = plans.create_plan(db(), actor=current_actor(), data=data)
        else:
            plan = plans.update_plan(db(), actor=current_actor(), plan_id=plan_id, data=data)
    except DomainError as exc:
        db().rollback()
        return _invalid_plan_page(plan_id, exc), 422
    db().commit()
    flash(gettext("Plan %(name)s saved.", name=plan.name))
    return redirect(url_for("assignments.index"))


@bp.post("/plans/<plan_id>/fill")
@requires(Permission.EVALUATION_WRITE)
def fill(plan_id: str) -> Response:
    """Fill this week's lists from the plan now, rather than wait for the weekly job."""
    try:
        result = plans.fill_plan(
            db(),
            actor=current_actor(),
            plan_id=plan_id,
            week=plans.iso_week(organisation_today()),
            zone=organisation_zone(),
        )
    except Conflict as exc:
        db().rollback()
        flash_error(exc)
        return redirect(url_for("assignments.index"))
    db().commit()
    if result.filled:
        flash(
            ngettext(
                "%(num)d call assigned for %(week)s.",
                "%(num)d calls assigned for %(week)s.",
                len(result.assignments),
                week=plan_week_label(result.week),
            )
        )
    elif result.added:
        flash(
            ngettext(
                "%(num)d call that has become eligible since added to %(week)s.",
                "%(num)d calls that have become eligible since added to %(week)s.",
                result.added,
                week=plan_week_label(result.week),
            )
        )
    else:
        flash(gettext("This plan was filled for %(week)s already.", week=plan_week_label(result.week)))
    return redirect(url_for("assignments.index"))


def _plan_input(form: MultiDict[str, str]) -> plans.PlanInput:
    return plans.PlanInput(
        name=form.get("name", ""),
        queue=form.get("queue"),
        agent_ref=form.get("agent_ref"),
        calls_per_agent=_number(form, "calls_per_agent"),
        supervisor_ids=form.getlist("supervisor_ids"),
        seed=_number(form, "seed") if form.get("seed", "").strip() else None,
        active=form.get("active") == "on",
    )


def _number(form: MultiDict[str, str], name: str) -> int:
    # A seed drawn by the plan has up to 19 digits; a number over the plan's limits is refused by the plan.
    number = whole_number(form.get(name), digits=SEED_DIGITS)
    if number is None:
        raise Invalid(name, gettext("enter a whole number"), code="int_parsing")
    return number


def _invalid_plan_page(plan_id: str | None, exc: DomainError) -> str:
    form = request.form
    field = exc.field
    # A missing or long name here is the plan's (error_messages names a saved search's, of another width).
    if (field, exc.code) == ("name", "missing"):
        message = gettext("a plan needs a name")
    elif exc.code == "too_long":
        message = gettext("at most %(num)d characters", num=exc.values["max"])
    else:
        message = error_message(exc)
    values = {name: form.get(name, "") for name in TEXT_FIELDS}
    return _plan_page(
        plan_id,
        values,
        form.getlist("supervisor_ids"),
        active=form.get("active") == "on",
        error=message,
        field=field,
    )


def _plan_page(
    plan_id: str | None,
    values: dict[str, str],
    chosen: list[str],
    *,
    active: bool,
    error: str | None = None,
    field: str | None = None,
) -> str:
    return render_template(
        "assignments/plan.html",
        plan_id=plan_id,
        form=values,
        chosen=set(chosen),
        active=active,
        supervisors=handover.plan_supervisor_choices(db(), chosen),
        error=error,
        field=field,
        max_calls=plans.MAX_CALLS_PER_AGENT,
    )


def dashboard_queue() -> dict[str, object] | None:
    """For a supervisor's dashboard: my open assignments, everyone's overdue ones, and this week's coverage."""
    if not current_can(Permission.EVALUATION_WRITE):
        return None
    actor, day = current_actor(), organisation_today()
    week = plans.iso_week(day)
    return {
        "mine": assignments.list_assignments(db(), actor=actor, today=day, assignee_id=actor.id, limit=DASHBOARD_ROWS),
        "mine_total": assignments.count_assignments(db(), actor=actor, today=day, assignee_id=actor.id),
        "overdue": assignments.list_assignments(db(), actor=actor, today=day, overdue_only=True, limit=DASHBOARD_ROWS),
        # The rest are on the assignments page's overdue list, a page at a time.
        "overdue_total": assignments.count_assignments(db(), actor=actor, today=day, overdue_only=True),
        "coverage": assignments.coverage(db(), week=week),
        "names": _names(handover.assignment_holders(db())),
        "week": week,
    }
