"""What a supervisor is told of assignments handed on, and whose list a lead may read.

A lead hands an assignment on with `assignments.reassign` (audited `assignment.reassigned`, its `from` the previous
assignee); the row keeps only its new assignee, so the trail is where the previous one is read from.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.errors import Invalid
from recordings_service.evaluations.assignments import submitted_by_assignee
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
