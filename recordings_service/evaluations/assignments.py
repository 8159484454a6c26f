"""Calls put on a supervisor's "to evaluate" list, by hand, in bulk or by a plan, and what is left to do.

An assignment is done once its assignee has submitted an evaluation of the call; that is read from the
evaluations table, so scoring needs to know of assignments only the row lock a submit takes (`lock_assignment_of`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.db import cursor_key, cursor_moment, key_cursor
from recordings_service.errors import Conflict, Invalid, NotFound
from recordings_service.evaluations.holding import refuse_held_by_another, submitted_by_assignee
from recordings_service.models import Assignment, Evaluation, Recording, User
from recordings_service.models.evaluation import EvaluationState
from recordings_service.models.recording import RecordingStatus, name_key
from recordings_service.permissions import Permission, allowed
from recordings_service.recordings import MAX_CHOSEN, in_everyday_use, visible_calls, visible_to

MAX_BULK = MAX_CHOSEN
MAX_LIST = 200
# Assignments are the weeks' work: a due date over a year ahead is a typing slip, not a plan.
MAX_DUE_AHEAD = timedelta(days=366)


@dataclass(frozen=True)
class AssignmentView:
    """An assignment with the call it names and whether it is done (or overdue) now."""

    assignment: Assignment
    started_at: datetime
    queue: str
    done: bool
    overdue: bool


@dataclass(frozen=True)
class Coverage:
    """One agent's plan for a week: calls evaluated out of those planned."""

    agent_ref: str
    planned: int
    evaluated: int


def can_evaluate(user: User | None) -> bool:
    return user is not None and user.active and allowed(role=user.role, permission=Permission.EVALUATION_WRITE)


def evaluator(session: Session, user_id: str, *, field: str) -> User:
    """The active account `user_id` if it may evaluate calls; `Invalid` on `field` otherwise."""
    user = session.get(User, user_id)
    if user is None:
        raise Invalid(field, f"no account {user_id}", code="unknown_user")
    if not can_evaluate(user):
        raise Invalid(field, f"{user.username} cannot evaluate calls", code="not_evaluator")
    return user


@dataclass(frozen=True)
class Assigned:
    """What assigning calls did, call by call: new on the list, on it (open) before, or evaluated by the assignee
    already (nothing new on their list)."""

    assignments: list[Assignment]
    added: int
    listed_before: int
    done_before: int


def assign_calls(
    session: Session,
    *,
    actor: Actor,
    recording_ids: Sequence[str],
    assignee_id: str,
    today: date,
    due: date | None = None,
) -> Assigned:
    """Put calls on `assignee_id`'s list (all or none), in the order given; audited per call put on the list or given
    a new due date.

    A call already on that list keeps its assignment (with the new due date, when one is given). Calls the
    actor cannot see are refused as not found (audited); calls the assignee may not open are invalid; a call still
    open on another supervisor's list is a `Conflict` naming who holds it (`reassign` hands it on). A due date lies
    between `today` (the organisation's) and a year ahead.
    """
    _check_due(due, today)
    calls = {
        call.id: call
        for call in visible_calls(
            session, actor=actor, recording_ids=recording_ids, refused_action="assignment.refused"
        )
    }
    wanted = list(calls)
    assignee = evaluator(session, assignee_id, field="assignee_id")
    holder = Actor(id=assignee.id, name=assignee.username, role=assignee.role)
    openable = set(session.scalars(select(Recording.id).where(Recording.id.in_(wanted), visible_to(holder))))
    closed = [recording_id for recording_id in wanted if recording_id not in openable]
    if closed:
        raise Invalid("recording_ids", f"{assignee.username} may not open call {closed[0]}", code="not_visible")
    refuse_held_by_another(session, wanted, assignee_id=assignee.id)
    existing = {
        row.recording_id: row
        for row in session.scalars(
            select(Assignment).where(Assignment.assignee_id == assignee.id, Assignment.recording_id.in_(wanted))
        )
    }
    result: list[Assignment] = []
    # A call assigned again as it was (a client's retry, a second click) changed nothing: no event says it did.
    changed: list[Assignment] = []
    for recording_id in wanted:
        assignment = existing.get(recording_id)
        if assignment is None:
            assignment = Assignment(
                recording_id=recording_id,
                assignee_id=assignee.id,
                agent_ref=calls[recording_id].agent_ref,
                due=due,
                assigned_by=actor.id,
            )
            session.add(assignment)
            changed.append(assignment)
        elif due is not None and due != assignment.due:
            assignment.due = due
            changed.append(assignment)
        result.append(assignment)
    session.flush()
    for assignment in changed:
        record_event(
            session,
            actor=actor,
            action="assignment.created" if assignment.recording_id not in existing else "assignment.updated",
            object_type="recording",
            object_id=assignment.recording_id,
            details={
                "assignment_id": assignment.id,
                "assignee_id": assignee.id,
                "due": due.isoformat() if due else None,
            },
        )
    done = set(
        session.scalars(
            select(Evaluation.recording_id).where(
                Evaluation.recording_id.in_(wanted),
                Evaluation.evaluator_id == assignee.id,
                Evaluation.state == EvaluationState.SUBMITTED,
            )
        )
    )
    listed = len([recording_id for recording_id in existing if recording_id not in done])
    return Assigned(result, added=len(wanted) - listed - len(done), listed_before=listed, done_before=len(done))


def get_assignment(session: Session, *, actor: Actor, assignment_id: str, lock: bool = False) -> Assignment:
    """The assignment, if `actor` may see its call; else not found (the refusal audited, as assigning it is)."""
    # Read anew under the lock: a submit or reassign that held it may have changed the row since it was loaded.
    assignment = session.get(Assignment, assignment_id, with_for_update=lock, populate_existing=lock)
    if assignment is None:
        raise NotFound(f"assignment {assignment_id} not found")
    visible_calls(session, actor=actor, recording_ids=[assignment.recording_id], refused_action="assignment.refused")
    return assignment


def reassign(
    session: Session, *, actor: Actor, assignment_id: str, assignee_id: str, today: date, due: date | None = None
) -> Assignment:
    """Hand an open assignment to another evaluator (its assignee is ill, away or gone); audited with both names.

    The assignment moves rather than being copied: it keeps its plan, week and place in the coverage, and leaves its
    previous assignee's list and the overdue list instead of staying there open. One already done stays with whoever
    did it (`Conflict`), as does one the new evaluator already holds the call by. `due`, when given, replaces the
    due date (an overdue assignment handed on needs a new one).
    """
    _check_due(due, today)
    # Locked before it is read as open: a submit by its assignee holds the same lock (`lock_assignment_of`), so the
    # two go one after the other, never both (a call evaluated while its assignment moved on).
    assignment = get_assignment(session, actor=actor, assignment_id=assignment_id, lock=True)
    if session.scalar(select(submitted_by_assignee()).where(Assignment.id == assignment.id)):
        raise Conflict("this assignment is done: its call has been evaluated", why="assignment_done")
    assignee = evaluator(session, assignee_id, field="assignee_id")
    if assignee.id == assignment.assignee_id:
        raise Invalid("assignee_id", f"the call is already on {assignee.username}'s list", code="same_assignee")
    holder = Actor(id=assignee.id, name=assignee.username, role=assignee.role)
    if session.scalar(select(Recording.id).where(Recording.id == assignment.recording_id, visible_to(holder))) is None:
        raise Invalid("assignee_id", f"{assignee.username} may not open this call", code="not_visible")
    held = select(Assignment.id).where(
        Assignment.recording_id == assignment.recording_id, Assignment.assignee_id == assignee.id
    )
    if session.scalar(held) is not None:
        raise Conflict(f"{assignee.username} already has this call on their list", why="already_assigned")
    previous = assignment.assignee_id
    assignment.assignee_id = assignee.id
    if due is not None:
        assignment.due = due
    session.flush()
    record_event(
        session,
        actor=actor,
        action="assignment.reassigned",
        object_type="recording",
        object_id=assignment.recording_id,
        details={
            "assignment_id": assignment.id,
            "from": previous,
            "to": assignee.id,
            "due": assignment.due.isoformat() if assignment.due else None,
        },
    )
    return assignment


def lock_assignment_of(session: Session, *, recording_id: str, evaluator_id: str) -> None:
    """Lock `evaluator_id`'s assignment of the call, if they hold one, until the transaction ends: a submit that
    would complete it takes this before writing its evaluation and its audit event, as `reassign` locks the row
    before its audit event. Whichever comes second waits: a reassign after the submit finds the assignment done
    (`Conflict`); a submit after the reassign no longer finds it (the row has moved on), and its evaluation is the
    evaluator's own, leaving the assignment open on the new assignee's list."""
    session.execute(
        select(Assignment.id)
        .where(Assignment.recording_id == recording_id, Assignment.assignee_id == evaluator_id)
        .with_for_update()
    )


def _check_due(due: date | None, today: date) -> None:
    if due is None:
        return
    if due < today:
        raise Invalid("due", f"the due date {due.isoformat()} has passed", code="due_passed")
    if due > today + MAX_DUE_AHEAD:
        raise Invalid("due", "a due date is at most a year ahead", code="due_too_far")


def list_assignments(
    session: Session,
    *,
    actor: Actor,
    today: date,
    assignee_id: str | None = None,
    open_only: bool = True,
    overdue_only: bool = False,
    cursor: str | None = None,
    limit: int = MAX_LIST,
) -> list[AssignmentView]:
    """Assignments (one assignee's, or everyone's) of calls the actor can see; overdue ones first, then by due;
    after the assignment `cursor` names, when given (the last of the page before)."""
    done = submitted_by_assignee()
    query = (
        select(Assignment, Recording.started_at, Recording.queue, done)
        .join(Recording, Recording.id == Assignment.recording_id)
        .where(*_listed(actor, today, assignee_id=assignee_id, open_only=open_only, overdue_only=overdue_only))
    )
    if cursor:  # `?cursor=` is the first page, as on every other list
        query = query.where(_after(cursor))
    query = query.order_by(Assignment.due.is_(None), Assignment.due, Assignment.created_at, Assignment.id)
    return [
        AssignmentView(
            assignment=row,
            started_at=started_at,
            queue=queue,
            done=bool(is_done),
            overdue=_overdue(row, today, is_done),
        )
        for row, started_at, queue, is_done in session.execute(query.limit(limit))
    ]


def count_assignments(
    session: Session,
    *,
    actor: Actor,
    today: date,
    assignee_id: str | None = None,
    open_only: bool = True,
    overdue_only: bool = False,
) -> int:
    """How many assignments `list_assignments` lists, over all its pages."""
    query = (
        select(func.count(Assignment.id))
        .select_from(Assignment)
        .join(Recording, Recording.id == Assignment.recording_id)
        .where(*_listed(actor, today, assignee_id=assignee_id, open_only=open_only, overdue_only=overdue_only))
    )
    return session.scalar(query) or 0


def _listed(
    actor: Actor, today: date, *, assignee_id: str | None, open_only: bool, overdue_only: bool
) -> list[ColumnElement[bool]]:
    """What the lists of assignments keep: calls the actor can see and not deleted, of `assignee_id` when given."""
    kept = [visible_to(actor), Recording.status != RecordingStatus.DELETED]
    if assignee_id is not None:
        kept.append(Assignment.assignee_id == assignee_id)
    if open_only or overdue_only:
        kept.append(~submitted_by_assignee())
    if overdue_only:
        kept.append(Assignment.due < today)
    return kept


def page_cursor(assignment: Assignment) -> str:
    """The cursor after `assignment`: its place in the lists' order as the page showed it (due, created, id)."""
    due = assignment.due.isoformat() if assignment.due is not None else None
    return key_cursor(due, assignment.created_at.isoformat(), assignment.id)


def _after(cursor: str) -> ColumnElement[bool]:
    """Assignments after the place `cursor` names, in the lists' order (undated last, then due, created, id). The
    place, not the assignment: handed on with a new due date meanwhile, it would take the page after it along."""
    (due_text, created_text), last_id = cursor_key(cursor, 3)
    try:
        due = date.fromisoformat(due_text) if due_text is not None else None
    except ValueError:
        raise Invalid("cursor", "not a cursor this API handed out", code="invalid_cursor") from None
    created_at = cursor_moment(created_text)
    later = or_(
        Assignment.created_at > created_at,
        and_(Assignment.created_at == created_at, Assignment.id > last_id),
    )
    if due is None:
        return and_(Assignment.due.is_(None), later)
    return or_(
        Assignment.due.is_(None),
        Assignment.due > due,
        and_(Assignment.due == due, later),
    )


def still_planned() -> ColumnElement[bool]:
    """An assignment (joined with its recording) that still counts for its plan: evaluated by its assignee, or still
    to evaluate. A call deleted, restricted or kept by an erasure before it was evaluated is no longer planned: it
    has left its assignee's list, and counted, the week could never be covered, nor topped up with another."""
    return or_(submitted_by_assignee(), and_(Recording.status != RecordingStatus.DELETED, in_everyday_use()))


def coverage(session: Session, *, week: str) -> list[Coverage]:
    """Per agent (one in any letter case and Unicode form, named by the first spelling), the calls plans set for
    `week` (`still_planned`) and how many of them their assignees have evaluated."""
    done = submitted_by_assignee()
    rows = session.execute(
        select(
            Assignment.agent_ref,
            func.count(Assignment.id),
            func.count(Assignment.id).filter(and_(done)),
        )
        .join(Recording, Recording.id == Assignment.recording_id)
        .where(Assignment.week == week, Assignment.plan_id.is_not(None), still_planned())
        .group_by(Assignment.agent_ref)
        .order_by(Assignment.agent_ref)
    )
    agents: dict[str, Coverage] = {}
    for agent, planned, evaluated in rows:
        was = agents.get(name_key(agent), Coverage(agent_ref=agent, planned=0, evaluated=0))
        agents[name_key(agent)] = Coverage(was.agent_ref, was.planned + int(planned), was.evaluated + int(evaluated))
    return list(agents.values())


def describe(session: Session, items: Sequence[Assignment], *, today: date) -> list[AssignmentView]:
    """`items` as views (done, overdue, the call's start and queue), in the order given."""
    if not items:
        return []
    done = submitted_by_assignee()
    rows = {
        assignment_id: (started_at, queue, bool(is_done))
        for assignment_id, started_at, queue, is_done in session.execute(
            select(Assignment.id, Recording.started_at, Recording.queue, done)
            .join(Recording, Recording.id == Assignment.recording_id)
            .where(Assignment.id.in_([item.id for item in items]))
        )
    }
    views = []
    for item in items:
        started_at, queue, is_done = rows[item.id]
        views.append(
            AssignmentView(
                assignment=item,
                started_at=started_at,
                queue=queue,
                done=is_done,
                overdue=_overdue(item, today, is_done),
            )
        )
    return views


def _overdue(assignment: Assignment, today: date, done: bool) -> bool:
    return not done and assignment.due is not None and assignment.due < today
