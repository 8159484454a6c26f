"""Who holds a call for evaluation: an assignment is open until its assignee submits an evaluation of the call, and
a call open on one supervisor's list is not put on a second one's, by hand or by a plan.

Every writer that puts a call on a list takes the call's row lock first (`lock_calls`, in id order) and then reads
who holds it: hand assignment, bulk assignment and plan fills go one after the other for a call, never both.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from recordings_service.errors import Conflict
from recordings_service.models import Assignment, Evaluation, Recording, User
from recordings_service.models.evaluation import EvaluationState


def submitted_by_assignee() -> ColumnElement[bool]:
    """True for an assignment whose assignee has submitted an evaluation of its call."""
    return exists().where(
        Evaluation.recording_id == Assignment.recording_id,
        Evaluation.evaluator_id == Assignment.assignee_id,
        Evaluation.state == EvaluationState.SUBMITTED,
    )


def lock_calls(session: Session, recording_ids: Sequence[str]) -> None:
    """Lock the calls' rows until the transaction ends, in id order (so two writers never wait on each other in a
    circle); read who holds them only after, in a statement of its own, which sees what the writer before left."""
    if recording_ids:
        session.execute(
            select(Recording.id).where(Recording.id.in_(recording_ids)).order_by(Recording.id).with_for_update()
        )


def refuse_held_by_another(session: Session, recording_ids: Sequence[str], *, assignee_id: str) -> None:
    """`Conflict` for the first of the calls still open on someone else's list: assigned again, it would be evaluated
    by two supervisors each unaware of the other. Reassign hands it on instead, and tells its holder if they submit.

    The calls' rows are locked first, so that two leads assigning one call to two people at once (or a lead and a
    plan's fill) go one after the other and the second is refused; a call evaluated by its holder is done and may be
    assigned again. The refusal counts the chosen calls held (`held`), as the call list says how many."""
    lock_calls(session, recording_ids)
    held = session.execute(
        select(Assignment.id, Assignment.recording_id, User.username, User.display_name)
        .join(User, User.id == Assignment.assignee_id)
        .where(
            Assignment.recording_id.in_(recording_ids),
            Assignment.assignee_id != assignee_id,
            ~submitted_by_assignee(),
        )
        .order_by(Assignment.created_at, Assignment.id)
    ).all()
    if not held:
        return
    assignment_id, recording_id, username, display_name = held[0]
    count = len({row.recording_id for row in held})
    others = f" ({count} of the chosen calls are on other supervisors' lists, not yet evaluated)" if count > 1 else ""
    raise Conflict(
        f"call {recording_id} is on {username}'s list already, not yet evaluated: hand it on with "
        f"POST /api/v1/assignments/{assignment_id}/reassign{others}",
        why="held_by_another",
        values={
            "recording_id": recording_id,
            "holder": display_name or username,
            "assignment_id": assignment_id,
            "held": count,
        },
    )


def open_holders(session: Session, recording_ids: Sequence[str]) -> dict[str, list[str]]:
    """Per call, who has it open on their list (names as the lists show them, in the order assigned): the call list
    shows them, so that a lead choosing calls to assign can leave out those a bulk Assign would be refused for."""
    if not recording_ids:
        return {}
    rows = session.execute(
        select(Assignment.recording_id, User.username, User.display_name)
        .join(User, User.id == Assignment.assignee_id)
        .where(Assignment.recording_id.in_(recording_ids), ~submitted_by_assignee())
        .order_by(Assignment.created_at, Assignment.id)
    )
    holders: dict[str, list[str]] = {}
    for recording_id, username, display_name in rows:
        holders.setdefault(recording_id, []).append(display_name or username)
    return holders
