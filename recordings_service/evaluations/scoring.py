"""Scoring a call on an evaluation form, and reading evaluations back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from recordings_service.audit import Actor, record_event
from recordings_service.errors import Invalid, NotFound
from recordings_service.evaluations.forms import NA, NO, VALUES_BY_TYPE, WITH_QUESTIONS, YES, get_form
from recordings_service.models import Evaluation, EvaluationAnswer, FormQuestion, Recording
from recordings_service.models.evaluation import FormStatus
from recordings_service.models.recording import RecordingStatus
from recordings_service.recordings import get_playable_recording, visible_to

MAX_COMMENT_CHARS = 4000
# The answers that fail a critical question: a plain "no", or the bottom of the scale.
FAILING_VALUES = {NO, "1"}


@dataclass(frozen=True)
class Answer:
    value: str
    comment: str = ""


@dataclass(frozen=True)
class Score:
    total: float | None  # 0-100; None when every question was N/A
    critical_failed: bool


def answer_field(question_id: str) -> str:
    """The input name an answer is reported under (the UI names its radio groups the same)."""
    return f"answers.{question_id}"


def check_answers(questions: Sequence[FormQuestion], answers: Mapping[str, Answer]) -> None:
    """Every question answered with a value its type allows; nothing answered that the form lacks."""
    known = {question.id for question in questions}
    for question_id in answers:
        if question_id not in known:
            raise Invalid(answer_field(question_id), "this question is not on the form")
    for question in questions:
        answer = answers.get(question.id)
        allowed = VALUES_BY_TYPE[question.answer_type]
        if answer is None or not answer.value:
            raise Invalid(answer_field(question.id), f"answer required: {question.text}")
        if answer.value not in allowed:
            raise Invalid(answer_field(question.id), f"one of {', '.join(allowed)}: {question.text}")
        if len(answer.comment) > MAX_COMMENT_CHARS:
            raise Invalid(f"comments.{question.id}", f"at most {MAX_COMMENT_CHARS} characters")


def score_answers(questions: Sequence[FormQuestion], answers: Mapping[str, Answer]) -> Score:
    """Weighted percentage of the points available; N/A leaves the question out of the denominator.

    Yes is full points and no is none; the scale maps 1..5 onto 0..1. A critical question answered
    no (or 1) zeroes the whole score: getting a price or a contract wrong is not offset by politeness.
    """
    earned = possible = 0.0
    critical_failed = False
    for question in questions:
        value = answers[question.id].value
        if value == NA:
            continue
        if question.critical and value in FAILING_VALUES:
            critical_failed = True
        points = 1.0 if value == YES else 0.0 if value == NO else (int(value) - 1) / 4
        earned += question.weight * points
        possible += question.weight
    if critical_failed:
        return Score(total=0.0, critical_failed=True)
    if possible == 0:
        return Score(total=None, critical_failed=False)
    return Score(total=round(100 * earned / possible, 2), critical_failed=False)


def evaluate_call(
    session: Session,
    *,
    actor: Actor,
    recording_id: str,
    form_id: str,
    answers: Mapping[str, Answer],
    comment: str = "",
) -> Evaluation:
    """Score a call on a published form; the evaluation keeps that form version for good."""
    recording = get_playable_recording(session, actor=actor, recording_id=recording_id, audio=False)
    if recording.status == RecordingStatus.DELETED:
        raise NotFound(f"recording {recording_id} not found")
    form = get_form(session, form_id)
    if form.status != FormStatus.PUBLISHED:
        raise Invalid("form_id", "only a published form can be used to evaluate")
    if len(comment) > MAX_COMMENT_CHARS:
        raise Invalid("comment", f"at most {MAX_COMMENT_CHARS} characters")
    questions = form.questions
    check_answers(questions, answers)
    score = score_answers(questions, answers)
    evaluation = Evaluation(
        recording_id=recording.id,
        form_id=form.id,
        evaluator_id=actor.id,
        agent_ref=recording.agent_ref,
        queue=recording.queue,
        comment=comment.strip(),
        score=score.total,
        critical_failed=score.critical_failed,
        answers=[
            EvaluationAnswer(
                question_id=question.id, value=answers[question.id].value, comment=answers[question.id].comment.strip()
            )
            for question in questions
        ],
    )
    session.add(evaluation)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="evaluation.created",
        object_type="recording",
        object_id=recording.id,
        details={
            "evaluation_id": evaluation.id,
            "form_id": form.id,
            "form_version": form.version,
            "score": score.total,
            "critical_failed": score.critical_failed,
        },
    )
    return evaluation


def get_evaluation(session: Session, *, actor: Actor, evaluation_id: str) -> Evaluation:
    """One evaluation with its answers, if `actor` may see the call it scores."""
    evaluation = session.scalar(
        select(Evaluation)
        .where(Evaluation.id == evaluation_id)
        .options(selectinload(Evaluation.answers), selectinload(Evaluation.form).options(WITH_QUESTIONS))
    )
    if evaluation is None:
        raise NotFound(f"evaluation {evaluation_id} not found")
    get_playable_recording(session, actor=actor, recording_id=evaluation.recording_id, audio=False)
    return evaluation


def agent_evaluations(session: Session, *, actor: Actor, agent_ref: str, limit: int = 200) -> list[Evaluation]:
    """An agent's evaluations of the calls `actor` may see, newest first."""
    query = (
        select(Evaluation)
        .join(Recording, Recording.id == Evaluation.recording_id)
        .where(Evaluation.agent_ref == agent_ref, visible_to(actor))
    )
    query = query.order_by(Evaluation.created_at.desc(), Evaluation.id.desc()).limit(limit)
    return list(session.scalars(query.options(selectinload(Evaluation.form))))
