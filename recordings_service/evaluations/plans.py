"""Evaluation plans: each ISO week, N calls per agent drawn at random (with the plan's seed) from last week's
eligible calls of a queue or an agent, spread evenly over the plan's supervisors as assignments.

Eligible: transcribed, started in the week before the one being filled, of the plan's queue or agent (in any
letter case), not restricted, not already evaluated (submitted) or assigned. The draw takes each agent's eligible
calls in id order and samples them with a generator seeded by (plan seed, week, agent), so the same plan, week and
data choose the same calls. A plan is filled once per week (`PlanFill`) and topped up until the week's Wednesday
with calls that became eligible since (`fill_plan`); filling again after that is a no-op.
"""

from __future__ import annotations

import random
import secrets
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from recordings_service.account_names import CALL_NAME, refuse_invisible
from recordings_service.audit import Actor, record_event
from recordings_service.db import utcnow
from recordings_service.errors import Conflict, Invalid, NotFound
from recordings_service.evaluations.assignments import can_evaluate, evaluator, still_planned
from recordings_service.models import Assignment, Evaluation, EvaluationPlan, PlanFill, Recording, User
from recordings_service.models.evaluation import EvaluationState
from recordings_service.models.recording import MAX_QUEUE, RecordingStatus, name_key
from recordings_service.recordings import in_everyday_use, visible_to
from recordings_service.written_text import refuse_invisible_in_line

FIRST_YEAR, LAST_YEAR = 2000, 9998  # the weeks a plan is filled for
MAX_CALLS_PER_AGENT = 50
TOP_UP_DAYS = 3  # a week filled on Monday is topped up until its Wednesday ends
# The columns' widths: a longer text was a 500 on PostgreSQL and kept whole on SQLite.
MAX_NAME_CHARS = 200
MAX_REF_CHARS = MAX_QUEUE
MAX_SEED = 2**63 - 1
PLAN_ACTOR = Actor(id=None, name="evaluation-plans", role="system")


@dataclass(frozen=True)
class PlanInput:
    name: str
    queue: str | None
    agent_ref: str | None
    calls_per_agent: int
    supervisor_ids: list[str]
    seed: int | None = None
    active: bool = True


@dataclass(frozen=True)
class FillResult:
    plan_id: str
    week: str
    filled: bool  # False when the week had been filled before
    assignments: list[Assignment]  # the week's
    added: int  # how many this fill assigned: all of a first fill's, those a top-up added


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_monday(week: str) -> date:
    """The Monday of an ISO week written "2026-W49"; `Invalid` on `week` otherwise."""
    try:
        year, number = week.split("-W")
        monday = date.fromisocalendar(int(year), int(number), 1)
    except ValueError:
        raise Invalid("week", "an ISO week such as 2026-W49", code="invalid_week") from None
    # Filling looks at the week before and ends on the Sunday: a week at year 1 or 9999 overflowed (a 500).
    if not FIRST_YEAR <= monday.year <= LAST_YEAR:
        raise Invalid("week", f"a week of the years {FIRST_YEAR} to {LAST_YEAR}", code="invalid_week")
    # A week is filled once under its name: "2026-W٤٩" (Arabic-Indic digits, which `int` reads) or "2026-W9" named
    # a filled week anew, and filling it drew the plan's calls for it a second time.
    if iso_week(monday) != week:
        raise Invalid("week", "an ISO week such as 2026-W49", code="invalid_week")
    return monday


def check_fillable(week: str, *, today: date) -> None:
    """`Invalid` on `week` once it has ended (`today`, in the organisation's zone): a fill would hand out
    assignments already overdue, which nothing takes back (this week and later ones may be filled)."""
    if today > week_monday(week) + timedelta(days=6):
        raise Invalid("week", f"week {week} has ended: fill this week or a later one", code="week_ended")


def _checked(
    session: Session, data: PlanInput, *, already: frozenset[str] = frozenset(), kept_name: str | None = None
) -> PlanInput:
    """`data` cleaned and checked; supervisors `already` on the plan are not checked again: one who can no longer
    evaluate (a disabled account) must not stop the plan from being paused or renamed (filling skips them). The
    plan's name as stored (`kept_name`, one saved before names were checked), sent back by an edit, is taken as is."""
    name = data.name.strip()
    if not name:
        raise Invalid("name", "a plan needs a name", code="missing")
    queue = (data.queue or "").strip() or None
    agent_ref = (data.agent_ref or "").strip() or None
    if queue is None and agent_ref is None:
        raise Invalid("queue", "name a queue or an agent", code="missing")
    for field, text, most in (
        ("name", name, MAX_NAME_CHARS),
        ("queue", queue, MAX_REF_CHARS),
        ("agent_ref", agent_ref, MAX_REF_CHARS),
    ):
        if text is not None and len(text) > most:
            raise Invalid(field, f"at most {most} characters", code="too_long", values={"max": most})
    refuse_invisible_in_line("name", name, what="a plan's name", kept=kept_name)
    for field, text in (("queue", queue), ("agent_ref", agent_ref)):
        # No call carries a line break, a tab, an escape or a zero-width space in its queue or agent (ingest refuses
        # them): a plan naming one was saved and then filled nothing, week after week, and said nothing.
        if text is not None:
            refuse_invisible(text, field=field, what=CALL_NAME, why="invisible_in_name")
    if not 1 <= data.calls_per_agent <= MAX_CALLS_PER_AGENT:
        raise Invalid("calls_per_agent", f"between 1 and {MAX_CALLS_PER_AGENT}", code="out_of_range")
    supervisors = list(dict.fromkeys(data.supervisor_ids))
    if not supervisors:
        raise Invalid("supervisor_ids", "name at least one supervisor", code="missing")
    for supervisor_id in supervisors:
        if supervisor_id not in already:
            evaluator(session, supervisor_id, field="supervisor_ids")
    if data.seed is not None and not 0 <= data.seed <= MAX_SEED:
        raise Invalid("seed", f"between 0 and {MAX_SEED}", code="out_of_range")
    return PlanInput(
        name=name,
        queue=queue,
        agent_ref=agent_ref,
        calls_per_agent=data.calls_per_agent,
        supervisor_ids=supervisors,
        seed=data.seed,
        active=data.active,
    )


def create_plan(session: Session, *, actor: Actor, data: PlanInput) -> EvaluationPlan:
    """A new plan; without a seed, one is drawn and stored, so its weeks can be drawn again the same way."""
    checked = _checked(session, data)
    plan = EvaluationPlan(
        name=checked.name,
        queue=checked.queue,
        agent_ref=checked.agent_ref,
        calls_per_agent=checked.calls_per_agent,
        supervisor_ids=checked.supervisor_ids,
        seed=checked.seed if checked.seed is not None else secrets.randbelow(MAX_SEED),
        active=checked.active,
        created_by=actor.id,
    )
    session.add(plan)
    session.flush()
    record_event(session, actor=actor, action="plan.created", object_type="evaluation_plan", object_id=plan.id)
    return plan


def update_plan(session: Session, *, actor: Actor, plan_id: str, data: PlanInput) -> EvaluationPlan:
    """Change a plan; weeks already filled keep their assignments."""
    plan = get_plan(session, plan_id)
    checked = _checked(session, data, already=frozenset(plan.supervisor_ids), kept_name=plan.name)
    plan.name = checked.name
    plan.queue = checked.queue
    plan.agent_ref = checked.agent_ref
    plan.calls_per_agent = checked.calls_per_agent
    plan.supervisor_ids = checked.supervisor_ids
    plan.active = checked.active
    if checked.seed is not None:
        plan.seed = checked.seed
    session.flush()
    record_event(session, actor=actor, action="plan.updated", object_type="evaluation_plan", object_id=plan.id)
    return plan


def get_plan(session: Session, plan_id: str) -> EvaluationPlan:
    plan = session.get(EvaluationPlan, plan_id)
    if plan is None:
        raise NotFound(f"evaluation plan {plan_id} not found")
    return plan


def list_plans(session: Session) -> list[EvaluationPlan]:
    return list(session.scalars(select(EvaluationPlan).order_by(EvaluationPlan.name, EvaluationPlan.id)))


def eligible_calls(
    session: Session, plan: EvaluationPlan, *, week: str, zone: tzinfo = UTC, lock: bool = False
) -> dict[str, list[str]]:
    """Per agent, in id order, the calls of the week before `week` (its days in `zone`) that `plan` may choose.

    With `lock`, the calls' rows are locked first, in id order, as hand assignment locks them (`holding.lock_calls`),
    and read again after: a lead assigning one of them by hand at the same moment goes before or after the fill,
    and the later of the two sees the other's assignment (the fill skips the call; the lead is refused)."""
    monday = week_monday(week)
    start = datetime.combine(monday - timedelta(days=7), time(), tzinfo=zone)
    end = datetime.combine(monday, time(), tzinfo=zone)
    eligible = [
        Recording.status == RecordingStatus.TRANSCRIBED,
        in_everyday_use(),  # the supervisors it assigns them to may see them
        Recording.started_at >= start,
        Recording.started_at < end,
        ~exists().where(Evaluation.recording_id == Recording.id, Evaluation.state == EvaluationState.SUBMITTED),
        ~exists().where(Assignment.recording_id == Recording.id),
    ]
    # In any letter case, as the call list matches them: a plan for "Sales" drew nothing from the calls of "sales".
    if plan.queue is not None:
        eligible.append(Recording.queue_key == name_key(plan.queue))
    if plan.agent_ref is not None:
        eligible.append(Recording.agent_key == name_key(plan.agent_ref))
    if lock:
        # A statement of its own: the one below reads anew, seeing what a hand assignment that held a lock left.
        session.execute(select(Recording.id).where(*eligible).order_by(Recording.id).with_for_update(of=Recording))
    # One agent in any letter case and Unicode form, as the plan's agent is matched (by `agent_key`), named by the
    # spelling of their first call: "Anna.K" and "anna.k" were two agents, each drawn the plan's number of calls.
    query = select(Recording.agent_key, Recording.agent_ref, Recording.id).where(*eligible)
    names: dict[str, str] = {}
    calls: dict[str, list[str]] = defaultdict(list)
    for key, agent_ref, recording_id in session.execute(query.order_by(Recording.agent_key, Recording.id)):
        calls[names.setdefault(key, agent_ref)].append(recording_id)
    return dict(calls)


def draw(
    plan: EvaluationPlan, *, week: str, calls: dict[str, list[str]], planned: Mapping[str, int]
) -> list[tuple[str, str]]:
    """(agent, call) pairs: up to N per agent less those `planned` already (by the agent's `name_key`), at random but
    reproducibly, agents in name order."""
    chosen: list[tuple[str, str]] = []
    for agent_ref in sorted(calls):
        candidates = calls[agent_ref]
        wanted = max(plan.calls_per_agent - planned.get(name_key(agent_ref), 0), 0)
        rng = random.Random(f"{plan.seed}:{week}:{agent_ref}")  # noqa: S311  (reproducible, not secret)
        picked = rng.sample(candidates, min(wanted, len(candidates)))
        chosen.extend((agent_ref, recording_id) for recording_id in picked)
    return chosen


def fill_plan(
    session: Session,
    *,
    actor: Actor,
    plan_id: str,
    week: str,
    zone: tzinfo = UTC,
    now: datetime | None = None,
) -> FillResult:
    """Fill `week`'s lists from `plan`; the week's Sunday is the assignments' due date.

    `zone` is the organisation's time zone: the calls of last week are those of its days there. The first fill
    draws up to N calls per agent. Until the week's Wednesday ends (`now`, in `zone`) filling again tops the week
    up: an agent with fewer than N calls planned gets theirs that have become eligible since, drawn the same way (a
    call of late Sunday still being transcribed at Monday's first fill, which next week's fill, looking at another
    week, would never see). A call is drawn once: it is eligible only while unassigned. After that day filling
    again changes nothing, so a supervisor is not handed calls on Saturday that are due on Sunday.
    """
    plan = get_plan(session, plan_id)
    monday = week_monday(week)
    # The savepoint opens the write transaction before anything is read (BEGIN IMMEDIATE on SQLite, see db.py) and
    # the plans' row locks serialise fills on PostgreSQL: a fill reads the calls as the fill before it left them.
    with session.begin_nested():
        _serialize_fills(session)
        done = session.scalar(select(PlanFill).where(PlanFill.plan_id == plan.id, PlanFill.week == week))
        today = (now or utcnow()).astimezone(zone).date()
        if done is not None and today > monday + timedelta(days=TOP_UP_DAYS - 1):
            return _filled_before(session, plan, week, actor, added=0)
        supervisors = [user_id for user_id in plan.supervisor_ids if can_evaluate(session.get(User, user_id))]
        if not supervisors and done is None:
            raise Conflict(f"plan {plan.name} has no supervisor who can evaluate calls", why="no_plan_evaluator")
        planned = _planned_per_agent(session, plan, week)
        eligible = eligible_calls(session, plan, week=week, zone=zone, lock=True)
        chosen = draw(plan, week=week, calls=eligible, planned=planned)
        if done is not None and not (chosen and supervisors):
            return _filled_before(session, plan, week, actor, added=0)
        # Round robin, starting one supervisor further each week, so the odd extra call does not always land on the
        # first; a top-up goes on from where the week's fill left off.
        turn = monday.toordinal() // 7 + sum(planned.values())
        assignments = [
            Assignment(
                recording_id=recording_id,
                assignee_id=supervisors[(turn + position) % len(supervisors)],
                agent_ref=agent_ref,
                plan_id=plan.id,
                week=week,
                due=monday + timedelta(days=6),
                assigned_by=actor.id,
            )
            for position, (agent_ref, recording_id) in enumerate(chosen)
        ]
        session.add_all(assignments)
        if done is None:
            session.add(PlanFill(plan_id=plan.id, week=week, assigned=len(assignments)))
        else:
            done.assigned += len(assignments)
    record_event(
        session,
        actor=actor,
        action="plan.filled" if done is None else "plan.topped_up",
        object_type="evaluation_plan",
        object_id=plan.id,
        details={"week": week, "assigned": len(assignments), "agents": len({agent for agent, _ in chosen})},
    )
    if done is not None:
        return _filled_before(session, plan, week, actor, added=len(assignments))
    return FillResult(plan_id=plan.id, week=week, filled=True, assignments=assignments, added=len(assignments))


def _planned_per_agent(session: Session, plan: EvaluationPlan, week: str) -> dict[str, int]:
    """How many calls `plan` has set for `week` per agent so far and still counts (none before its first fill), as
    the week's coverage counts them: a top-up replaces a planned call erased, deleted or restricted since. Counting
    every assignment, it replaced none, and the agent stayed under-sampled for the week. Keyed by the agent's
    `name_key`: a top-up may name them by another spelling than the fill did."""
    rows = session.execute(
        select(Assignment.agent_ref, func.count())
        .join(Recording, Recording.id == Assignment.recording_id)
        .where(Assignment.plan_id == plan.id, Assignment.week == week, still_planned())
        .group_by(Assignment.agent_ref)
    )
    planned: Counter[str] = Counter()
    for agent_ref, count in rows:
        planned[name_key(agent_ref)] += int(count)
    return dict(planned)


def _filled_before(session: Session, plan: EvaluationPlan, week: str, actor: Actor, *, added: int) -> FillResult:
    assignments = _week_assignments(session, plan, week, actor)
    return FillResult(plan_id=plan.id, week=week, filled=False, assignments=assignments, added=added)


def _serialize_fills(session: Session) -> None:
    """Take every plan's row lock until commit, in id order: fills of any two plans then run one after the other on
    PostgreSQL, the later drawing from the calls the earlier left. Two plans of one queue filled at once (the job in
    two jobs processes, or beside "Fill this week") each drew the calls the other had not yet committed, and
    assigned them twice. (On SQLite the fill's savepoint, taking the write lock first, does the same.)"""
    session.execute(select(EvaluationPlan.id).order_by(EvaluationPlan.id).with_for_update())


def _week_assignments(session: Session, plan: EvaluationPlan, week: str, actor: Actor) -> list[Assignment]:
    """The week's assignments of calls `actor` may still see: a call restricted or deleted since the fill is left
    out, as the lists leave it out, rather than naming its queue and start to someone who may no longer see it."""
    return list(
        session.scalars(
            select(Assignment)
            .join(Recording, Recording.id == Assignment.recording_id)
            .where(
                Assignment.plan_id == plan.id,
                Assignment.week == week,
                visible_to(actor),
                Recording.status != RecordingStatus.DELETED,
            )
            .order_by(Assignment.agent_ref, Assignment.id)
        )
    )


def fill_active_plans(
    session: Session, *, week: str, zone: tzinfo = UTC, now: datetime | None = None
) -> dict[str, int]:
    """Fill, or top up, every active plan for `week` (the hourly job); a plan without supervisors is skipped."""
    counts = {"filled": 0, "topped_up": 0, "already": 0, "skipped": 0, "assigned": 0}
    for plan in session.scalars(select(EvaluationPlan).where(EvaluationPlan.active.is_(True))):
        try:
            result = fill_plan(session, actor=PLAN_ACTOR, plan_id=plan.id, week=week, zone=zone, now=now)
        except Conflict:
            counts["skipped"] += 1
            continue
        counts["filled" if result.filled else "topped_up" if result.added else "already"] += 1
        counts["assigned"] += result.added
    return counts
