"""Every evaluation of the calls a person may see, newest first (the evaluations list), one agent's and one call's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from recordings_service.audit import Actor
from recordings_service.db import id_cursor
from recordings_service.evaluations.forms import WITH_QUESTIONS
from recordings_service.evaluations.trends import spellings
from recordings_service.models import Evaluation, Recording, User
from recordings_service.models.account import Role
from recordings_service.models.evaluation import EvaluationState
from recordings_service.recordings import get_playable_recording, visible_to


@dataclass(frozen=True)
class ListedEvaluation:
    evaluation: Evaluation
    evaluator: str


def list_evaluations(
    session: Session, *, actor: Actor, cursor: str | None = None, limit: int = 50
) -> list[ListedEvaluation]:
    """Evaluations of the calls `actor` may see, newest first (ids are ULIDs); `cursor` is the last id seen. Drafts
    are their evaluator's work in progress: listed to them only."""
    query = (
        select(Evaluation, User.username)
        .join(Recording, Recording.id == Evaluation.recording_id)
        .join(User, User.id == Evaluation.evaluator_id)
        .where(
            visible_to(actor),
            or_(Evaluation.state == EvaluationState.SUBMITTED, Evaluation.evaluator_id == actor.id),
        )
    )
    if cursor:
        query = query.where(Evaluation.id < id_cursor(cursor))
    query = query.order_by(Evaluation.id.desc()).limit(limit).options(selectinload(Evaluation.form))
    return [ListedEvaluation(evaluation=row[0], evaluator=row[1]) for row in session.execute(query)]


def agent_evaluations(session: Session, *, actor: Actor, agent_ref: str, limit: int = 200) -> list[Evaluation]:
    """An agent's submitted evaluations of the calls `actor` may see, newest first (drafts do not count), in any
    letter case and Unicode form, as the agent's trend beside them counts them (`trends.spellings`)."""
    named = Evaluation.agent_ref.in_(spellings(session, Evaluation.agent_ref, agent_ref))
    query = (
        select(Evaluation)
        .join(Recording, Recording.id == Evaluation.recording_id)
        .where(named, Evaluation.state == EvaluationState.SUBMITTED, visible_to(actor))
    )
    query = query.order_by(Evaluation.submitted_at.desc(), Evaluation.id.desc()).limit(limit)
    return list(session.scalars(query.options(selectinload(Evaluation.form))))


def call_evaluations(session: Session, *, actor: Actor, recording_id: str) -> list[ListedEvaluation]:
    """The evaluations of one call, oldest first: everyone's for staff, only the released ones for an agent."""
    recording = get_playable_recording(session, actor=actor, recording_id=recording_id, audio=False)
    query = (
        select(Evaluation, User.username)
        .join(User, User.id == Evaluation.evaluator_id)
        .where(Evaluation.recording_id == recording.id)
    )
    if actor.role == Role.AGENT:
        query = query.where(Evaluation.released_at.is_not(None))
    query = query.order_by(Evaluation.id).options(selectinload(Evaluation.form))
    return [ListedEvaluation(evaluation=row[0], evaluator=row[1]) for row in session.execute(query)]


def evaluations_document(session: Session, *, recording_id: str) -> list[dict[str, Any]]:
    """The submitted evaluations of a call with their earlier versions, as the evidence package states them."""
    rows = session.execute(
        select(Evaluation, User.username)
        .join(User, User.id == Evaluation.evaluator_id)
        .where(Evaluation.recording_id == recording_id, Evaluation.state == EvaluationState.SUBMITTED)
        .order_by(Evaluation.id)
        .options(
            selectinload(Evaluation.answers),
            selectinload(Evaluation.versions),
            selectinload(Evaluation.form).options(WITH_QUESTIONS),
        )
    ).all()
    return [_evaluation_json(evaluation, evaluator) for evaluation, evaluator in rows]


def _evaluation_json(evaluation: Evaluation, evaluator: str) -> dict[str, Any]:
    texts = {question.id: question.text for question in evaluation.form.questions}
    return {
        "id": evaluation.id,
        "form": {"id": evaluation.form_id, "name": evaluation.form.name, "version": evaluation.form.version},
        "evaluator": evaluator,
        "version": evaluation.version,
        "score": evaluation.score,
        "critical_failed": evaluation.critical_failed,
        "comment": evaluation.comment,
        "submitted_at": _iso(evaluation.submitted_at),
        "answers": [
            {
                "question": texts.get(answer.question_id, answer.question_id),
                "value": answer.value,
                "comment": answer.comment,
                "at_s": answer.at_s,
            }
            for answer in evaluation.answers
        ],
        "released_at": _iso(evaluation.released_at),
        "agent_response": evaluation.agent_response,
        "agent_comment": evaluation.agent_comment,
        "dispute_state": evaluation.dispute_state,
        "resolution_note": evaluation.resolution_note,
        "earlier_versions": [
            {
                "version": version.version,
                "score": version.score,
                "critical_failed": version.critical_failed,
                "comment": version.comment,
                "answers": version.answers,
                "submitted_at": _iso(version.submitted_at),
                "replaced_at": _iso(version.replaced_at),
            }
            for version in evaluation.versions
        ],
    }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
