"""Every evaluation of the calls a person may see, newest first: the evaluations list."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from recordings_service.audit import Actor
from recordings_service.models import Evaluation, Recording, User
from recordings_service.recordings import visible_to


@dataclass(frozen=True)
class ListedEvaluation:
    evaluation: Evaluation
    evaluator: str


def list_evaluations(
    session: Session, *, actor: Actor, cursor: str | None = None, limit: int = 50
) -> list[ListedEvaluation]:
    """Evaluations of the calls `actor` may see, newest first (ids are ULIDs); `cursor` is the last id seen."""
    query = (
        select(Evaluation, User.username)
        .join(Recording, Recording.id == Evaluation.recording_id)
        .join(User, User.id == Evaluation.evaluator_id)
        .where(visible_to(actor))
    )
    if cursor:
        query = query.where(Evaluation.id < cursor)
    query = query.order_by(Evaluation.id.desc()).limit(limit).options(selectinload(Evaluation.form))
    return [ListedEvaluation(evaluation=row[0], evaluator=row[1]) for row in session.execute(query)]
