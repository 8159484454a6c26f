"""What a supervisor is told of assignments handed on, whose list a lead may read, and whom calls may be handed to.

A lead hands an assignment on with `assignments.reassign` (audited `assignment.reassigned`, its `from` the previous
assignee); the row keeps only its new assignee, so the trail is where the previous one is read from.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from recordings_service.errors import Invalid
from recordings_service.evaluations.assignments import can_evaluate
from recordings_service.evaluations.holding import submitted_by_assignee
from recordings_service.models import Assignment, AuditEvent, User


def handed_on_from(session: Session, *, recording_id: str, evaluator_id: str) -> User | None:
    """Who now holds, still open, an assignment of the call that was handed on from `evaluator_id`; None when none
    is. An evaluation `evaluator_id` submits after the hand-on is their own and completes no one else's assignment:
    the call stays on that supervisor's list, which the evaluator should be told."""
    moves = session.scalars(
        select(AuditEvent.details).where(
            AuditEvent.action == "assignment.reassigned",
            AuditEvent.object_type == "recording",
            AuditEvent.object_id == recording_id,
        )
    )
    moved = {details.get("assignment_id") for details in moves if details.get("from") == evaluator_id}
    if not moved:
        return None
    holder = session.scalar(
        select(User)
        .join(Assignment, Assignment.assignee_id == User.id)
        .where(Assignment.id.in_(moved), Assignment.assignee_id != evaluator_id, ~submitted_by_assignee())
        .order_by(Assignment.id)
        .limit(1)
    )
    return holder


def list_holder(session: Session, user_id: str, *, field: str) -> User:
    """The account whose list of assignments is asked for: any account, a disabled one too (its open work is what
    most needs handing on); `Invalid` on `field` for no such account."""
    user = session.get(User, user_id)
    if user is None:
        raise Invalid(field, f"no account {user_id}", code="unknown_user")
    return user


def plan_supervisor_choices(session: Session, chosen: Sequence[str]) -> list[tuple[User, bool]]:
    """The accounts a plan's page offers, by name, each with whether it may evaluate: every evaluator, and those of
    `chosen` who no longer may (a disabled account), so that saving the page keeps them on the plan as the API does
    (filling skips them) instead of dropping them unasked."""
    kept = set(chosen)
    users = session.scalars(
        select(User).where(or_(User.active.is_(True), User.id.in_(kept))).order_by(User.username, User.id)
    )
    return [(user, can_evaluate(user)) for user in users if can_evaluate(user) or user.id in kept]


def assignment_holders(session: Session) -> list[tuple[User, bool]]:
    """Every evaluator and everyone else with open assignments, by name, each with whether they may evaluate: the
    open work of a supervisor whose account was disabled is what most needs handing on."""
    holding = session.scalars(select(Assignment.assignee_id).where(~submitted_by_assignee()).distinct())
    return plan_supervisor_choices(session, list(holding))


def evaluators(session: Session) -> list[User]:
    """The active accounts that may evaluate calls (and so be assigned them), by name."""
    users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.username))
    return [user for user in users if can_evaluate(user)]
