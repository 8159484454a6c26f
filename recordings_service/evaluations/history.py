"""Every evaluation of the calls a person may see, newest first (the evaluations list, its page and the API's, filtered
and paged), one agent's and one call's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, selectinload

from recordings_service.audit import Actor
from recordings_service.db import id_cursor, key_cursor
from recordings_service.errors import Invalid
from recordings_service.evaluations.forms import WITH_QUESTIONS
from recordings_service.evaluations.trends import spellings
from recordings_service.iso_input import Moment
from recordings_service.models import Evaluation, Recording, User
from recordings_service.models.account import Role
from recordings_service.models.evaluation import EvaluationState
from recordings_service.recordings import (
    MAX_PAGE,
    AgentName,
    EntityId,
    QueueName,
    get_playable_recording,
    own_agent_key,
    period_end,
    record_page_read,
    visible_to,
)

_Rows = Select[Evaluation, str]


# The list's cursors name their page's last id under this tag: a cursor of another list is refused, not paged from.
CURSOR_TAG = "evaluations"


class EvaluationFilters(BaseModel):
    """What the evaluations list may be narrowed to: a window on when the score that stands was submitted, the queue
    and agent an evaluation was copied with from its call (in any letter case and Unicode form, as the trends count
    them: `spellings`), one form version, a state and one call."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    submitted_from: Moment | None = Field(default=None, description="submitted at or after this (submitted_at)")
    submitted_to: Moment | None = Field(default=None, description="submitted before this (exclusive)")
    queue: QueueName | None = None
    agent_ref: AgentName | None = None
    form_id: EntityId | None = Field(default=None, description="one form version's id (an item's form.id)")
    state: EvaluationState | None = Field(default=None, description="drafts are listed to their evaluator only")
    recording_id: EntityId | None = None

    @field_validator("submitted_to")
    @classmethod
    def _after_start(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        return period_end(value, info, "submitted_from")


EVERY_EVALUATION = EvaluationFilters()


@dataclass(frozen=True)
class ListedEvaluation:
    evaluation: Evaluation
    evaluator: str


@dataclass(frozen=True)
class EvaluationPage:
    items: list[ListedEvaluation]
    next_cursor: str | None


def list_evaluations(
    session: Session,
    *,
    actor: Actor,
    filters: EvaluationFilters = EVERY_EVALUATION,
    cursor: str | None = None,
    limit: int = 50,
) -> EvaluationPage:
    """Evaluations of the calls `actor` may see, newest first by id: a ULID made as the evaluation is begun, so one
    begun while the list is paged sorts before the pages left and each is seen once. Drafts are their evaluator's
    work in progress: listed to them only. An agent is listed what *My feedback* shows: the evaluations released to
    them (`visible_to` alone let in the unreleased ones of a call another evaluation of which was released)."""
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid("limit", f"must be between 1 and {MAX_PAGE}", code="out_of_range")
    query = (
        select(Evaluation, User.username)
        .join(Recording, Recording.id == Evaluation.recording_id)
        .join(User, User.id == Evaluation.evaluator_id)
        .where(
            visible_to(actor),
            or_(Evaluation.state == EvaluationState.SUBMITTED, Evaluation.evaluator_id == actor.id),
        )
    )
    if actor.role == Role.AGENT:  # their own calls' (`visible_to`: their agent in any letter case), released
        query = query.where(Evaluation.released_at.is_not(None), Recording.agent_key == own_agent_key(actor))
    query = _filtered(session, query, filters)
    if cursor:
        query = query.where(Evaluation.id < id_cursor(cursor, CURSOR_TAG))
    query = query.order_by(Evaluation.id.desc()).limit(limit + 1).options(selectinload(Evaluation.form))
    rows = session.execute(query).all()
    items = [ListedEvaluation(evaluation=row[0], evaluator=row[1]) for row in rows[:limit]]
    next_cursor = key_cursor(CURSOR_TAG, items[-1].evaluation.id) if len(rows) > limit else None
    return EvaluationPage(items=items, next_cursor=next_cursor)


def browse_evaluations(
    session: Session, *, actor: Actor, filters: EvaluationFilters, cursor: str | None = None, limit: int = 50
) -> EvaluationPage:
    """A page of `list_evaluations` for an API client, audited as `evaluation.listed`, as a page of the call list is
    (each row names an agent and how they scored): counts and which filters were used, never their values or ids."""
    page = list_evaluations(session, actor=actor, filters=filters, cursor=cursor, limit=limit)
    record_page_read(
        session,
        actor=actor,
        action="evaluation.listed",
        filters=filters,
        results=len(page.items),
        cursor=cursor,
        object_type="evaluation",
    )
    return page


def _filtered(session: Session, query: _Rows, filters: EvaluationFilters) -> _Rows:
    if filters.submitted_from is not None:
        query = query.where(Evaluation.submitted_at >= filters.submitted_from)
    if filters.submitted_to is not None:
        query = query.where(Evaluation.submitted_at < filters.submitted_to)
    if filters.queue is not None:
        query = query.where(Evaluation.queue.in_(spellings(session, Evaluation.queue, filters.queue)))
    if filters.agent_ref is not None:
        query = query.where(Evaluation.agent_ref.in_(spellings(session, Evaluation.agent_ref, filters.agent_ref)))
    if filters.form_id is not None:
        query = query.where(Evaluation.form_id == filters.form_id)
    if filters.state is not None:
        query = query.where(Evaluation.state == filters.state)
    if filters.recording_id is not None:
        query = query.where(Evaluation.recording_id == filters.recording_id)
    return query


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
                "agent_answer": version.agent_answer,
                "replaced_at": _iso(version.replaced_at),
            }
            for version in evaluation.versions
        ],
    }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
