"""Scoring a call on an evaluation form, and reading evaluations back."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from recordings_service.audit import Actor, record_event
from recordings_service.db import utcnow
from recordings_service.errors import Conflict, Forbidden, Invalid, NotFound, Refusal
from recordings_service.evaluations.agent_answers import agent_answer
from recordings_service.evaluations.assignments import lock_assignment_of
from recordings_service.evaluations.comments import MAX_COMMENT_CHARS, check_comments
from recordings_service.evaluations.form_versions import refuse_another_version
from recordings_service.evaluations.forms import NA, NO, VALUES_BY_TYPE, YES, get_form
from recordings_service.evaluations.lookup import evaluation_to_change, live_and_locked
from recordings_service.models import (
    Evaluation,
    EvaluationAnswer,
    EvaluationForm,
    EvaluationVersion,
    FormQuestion,
    Recording,
)
from recordings_service.models.evaluation import DisputeState, EvaluationState, FormStatus
from recordings_service.recordings import get_live_recording

# The answers that fail a critical question: a plain "no", or the bottom of the scale.
FAILING_VALUES = {NO, "1"}


@dataclass(frozen=True)
class Answer:
    value: str
    comment: str = ""
    at_s: float | None = None  # the moment of the call stamped as evidence for the answer


@dataclass(frozen=True)
class Score:
    total: float | None  # 0-100; None when every question was N/A
    critical_failed: bool


def answer_field(question_id: str) -> str:
    """The input name an answer is reported under (the UI names its radio groups the same)."""
    return f"answers.{question_id}"


def check_answers(
    questions: Sequence[FormQuestion], answers: Mapping[str, Answer], *, duration_s: float | None = None
) -> None:
    """Every question answered with a value its type allows; nothing answered that the form lacks; a moment given
    as evidence within the call's `duration_s`."""
    known = {question.id for question in questions}
    for question_id in answers:
        if question_id not in known:
            raise Invalid(answer_field(question_id), "this question is not on the form", why="not_on_form")
    for question in questions:
        answer = answers.get(question.id)
        allowed = VALUES_BY_TYPE[question.answer_type]
        if answer is None or not answer.value:
            raise _refused_answer(question, f"answer required: {question.text}", why="answer_required")
        if answer.value not in allowed:
            raise _refused_answer(question, f"one of {', '.join(allowed)}: {question.text}", why="answer_choice")
        _check_extras(question, answer, duration_s)


def _refused_answer(question: FormQuestion, message: str, *, why: str) -> Invalid:
    """A question's answer refused, naming the question (its text, for a page to say in the reader's language)."""
    return Invalid(answer_field(question.id), message, why=why, values={"question": question.text})


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


def open_evaluation(session: Session, *, actor: Actor, recording_id: str, form_id: str) -> Evaluation | None:
    """`actor`'s evaluation of this call on this form version, if there is one: a second attempt opens it."""
    return session.scalar(
        select(Evaluation)
        .where(
            Evaluation.recording_id == recording_id, Evaluation.form_id == form_id, Evaluation.evaluator_id == actor.id
        )
        .options(selectinload(Evaluation.answers))
    )


def save_draft(
    session: Session,
    *,
    actor: Actor,
    recording_id: str,
    form_id: str,
    answers: Mapping[str, Answer],
    comment: str = "",
    only_new: bool = False,
) -> Evaluation:
    """Keep what the evaluator has answered so far; a draft is never scored and never counts in results.

    Answers may be missing, but those given must be values their question allows. `only_new`: see `_own_evaluation`.
    """
    recording, form = _scorable(session, actor=actor, recording_id=recording_id, form_id=form_id)
    _check_partial(form.questions, answers, duration_s=recording.duration_s)
    evaluation = _own_evaluation(session, actor=actor, recording=recording, form=form, only_new=only_new)
    check_comments(evaluation, comment, {question_id: answer.comment for question_id, answer in answers.items()})
    if evaluation.state != EvaluationState.DRAFT:
        raise Conflict("this evaluation is submitted: submit changes as a new version", why="evaluation_submitted")
    _fill(evaluation, form.questions, answers, comment)
    evaluation.updated_at = utcnow()
    session.flush()
    return evaluation


def evaluate_call(
    session: Session,
    *,
    actor: Actor,
    recording_id: str,
    form_id: str,
    answers: Mapping[str, Answer],
    comment: str = "",
    only_new: bool = False,
) -> Evaluation:
    """Score a call on a published form (the evaluation keeps that form version for good).

    The evaluator's draft of it becomes version 1; an evaluation already submitted keeps what it said
    as its previous version and this becomes the next one. Either way the call has one evaluation per
    form version and evaluator, and results count its latest score once. `only_new`: see `_own_evaluation`.
    """
    recording, form = _scorable(session, actor=actor, recording_id=recording_id, form_id=form_id)
    evaluation = _own_evaluation(session, actor=actor, recording=recording, form=form, only_new=only_new)
    if evaluation.state == EvaluationState.SUBMITTED:  # a re-score: as the API's, with the agent's answer in mind
        return update_evaluation(
            session, actor=actor, evaluation_id=evaluation.id, answers=answers, comment=comment, submit=True
        )
    return submit_version(session, actor=actor, evaluation=evaluation, answers=answers, comment=comment)


def create_evaluation(
    session: Session,
    *,
    actor: Actor,
    recording_id: str,
    form_id: str,
    answers: Mapping[str, Answer],
    comment: str,
    submit: bool,
) -> Evaluation:
    """A new evaluation (a draft, or submitted at once); the evaluator's second one of the call on the same
    form version is refused, naming the first, which is the one to update (once the call is known to be one the
    evaluator may still score: the refusal names an evaluation)."""
    _scorable(session, actor=actor, recording_id=recording_id, form_id=form_id)
    existing = open_evaluation(session, actor=actor, recording_id=recording_id, form_id=form_id)
    if existing is not None:
        raise _already_evaluated(existing)
    write = evaluate_call if submit else save_draft
    return write(
        session,
        actor=actor,
        recording_id=recording_id,
        form_id=form_id,
        answers=answers,
        comment=comment,
        only_new=True,
    )


def _already_evaluated(existing: Evaluation) -> Conflict:
    return Conflict(f"you already evaluated this call on this form: update evaluation {existing.id}")


def update_evaluation(
    session: Session,
    *,
    actor: Actor,
    evaluation_id: str,
    answers: Mapping[str, Answer],
    comment: str,
    submit: bool,
) -> Evaluation:
    """Change one's own evaluation: a draft stays one until submitted; a submitted one gets a new version."""
    evaluation = evaluation_to_change(session, actor=actor, evaluation_id=evaluation_id)
    if evaluation.evaluator_id != actor.id:
        raise Forbidden(
            "only the evaluator changes an evaluation",
            refusal=Refusal(actor, "evaluation.update_refused", "evaluation", evaluation.id, {}),
        )
    if evaluation.dispute_state == DisputeState.OPEN:
        raise Conflict(
            "the agent disputes this evaluation: resolve the dispute, with a re-score if it was wrong",
            why="dispute_open",
        )
    if submit or evaluation.state == EvaluationState.SUBMITTED:
        # The version the agent answered keeps their answer (and a resolution) as it is replaced; the new one is theirs.
        submit_version(session, actor=actor, evaluation=evaluation, answers=answers, comment=comment)
        evaluation.agent_response = evaluation.dispute_state = evaluation.resolved_by = None
        evaluation.responded_at = evaluation.resolved_at = None
        evaluation.agent_comment = evaluation.resolution_note = ""
        session.flush()
        return evaluation
    return save_draft(
        session,
        actor=actor,
        recording_id=evaluation.recording_id,
        form_id=evaluation.form_id,
        answers=answers,
        comment=comment,
    )


def submit_version(
    session: Session, *, actor: Actor, evaluation: Evaluation, answers: Mapping[str, Answer], comment: str
) -> Evaluation:
    """Score `evaluation` anew from complete answers; a submitted one keeps its previous version. Audited."""
    questions = evaluation.form.questions
    check_comments(evaluation, comment, {question_id: answer.comment for question_id, answer in answers.items()})
    check_answers(questions, answers, duration_s=session.get_one(Recording, evaluation.recording_id).duration_s)
    # The evaluator's assignment of the call, locked before this completes it: a reassign of it waits, or is waited for.
    lock_assignment_of(session, recording_id=evaluation.recording_id, evaluator_id=evaluation.evaluator_id)
    score = score_answers(questions, answers)
    previous, revised = (evaluation.score, True) if evaluation.state == EvaluationState.SUBMITTED else (None, False)
    if revised:
        evaluation.versions.append(
            EvaluationVersion(
                version=evaluation.version,
                score=evaluation.score,
                critical_failed=evaluation.critical_failed,
                comment=evaluation.comment,
                answers=[
                    {"question_id": a.question_id, "value": a.value, "comment": a.comment, "at_s": a.at_s}
                    for a in evaluation.answers
                ],
                submitted_at=evaluation.submitted_at,
                agent_answer=agent_answer(evaluation),
                replaced_by=actor.id,
            )
        )
    _fill(evaluation, questions, answers, comment)
    now = utcnow()
    evaluation.state = EvaluationState.SUBMITTED
    evaluation.version += 1
    evaluation.score = score.total
    evaluation.critical_failed = score.critical_failed
    evaluation.submitted_at = evaluation.updated_at = now
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        # Where the row lock is not enforced (SQLite), two re-scores at once both numbered the same version.
        raise Conflict("this evaluation was changed by another request at the same moment; reload it") from None
    record_event(
        session,
        actor=actor,
        action="evaluation.revised" if revised else "evaluation.created",
        object_type="recording",
        object_id=evaluation.recording_id,
        details={
            "evaluation_id": evaluation.id,
            "form_id": evaluation.form_id,
            "form_version": evaluation.form.version,
            "version": evaluation.version,
            "score": score.total,
            "previous_score": previous,
            "critical_failed": score.critical_failed,
        },
    )
    return evaluation


def _scorable(session: Session, *, actor: Actor, recording_id: str, form_id: str) -> tuple[Recording, EvaluationForm]:
    if actor.id is None:
        raise Forbidden("only a signed-in person can evaluate a call")
    # Both ids come in the body: a 404 names which of them was not found.
    try:
        recording = get_live_recording(session, actor=actor, recording_id=recording_id)
    except NotFound as exc:
        raise NotFound(exc.message, why="recording_not_found", refusal=exc.refusal, field="recording_id") from None
    try:
        form = get_form(session, form_id)
    except NotFound as exc:
        raise NotFound(exc.message, field="form_id") from None
    if form.status != FormStatus.PUBLISHED:
        raise Invalid("form_id", "only a published form can be used to evaluate")
    return recording, form


def _own_evaluation(
    session: Session, *, actor: Actor, recording: Recording, form: EvaluationForm, only_new: bool
) -> Evaluation:
    """`actor`'s evaluation of the call on this form version (a new draft when there is none), read afresh under its
    row lock: two writes at once (two tabs, a double click, an autosave racing the submit) are one after the
    other, the later acting on what the earlier left. Read unlocked, both submitted the draft as version 1, and
    the first score was lost without a version of its own. With `only_new` (a create), one another request made
    meanwhile is refused, as one made before is."""
    evaluation = open_evaluation(session, actor=actor, recording_id=recording.id, form_id=form.id)
    made = False
    if evaluation is None:
        refuse_another_version(session, actor=actor, recording=recording, form=form)
        evaluation, made = _start(session, actor=actor, recording=recording, form_id=form.id)
    if only_new and not made:
        raise _already_evaluated(evaluation)
    return live_and_locked(session, actor=actor, evaluation=evaluation)


def _start(session: Session, *, actor: Actor, recording: Recording, form_id: str) -> tuple[Evaluation, bool]:
    """A new draft, and True; when a parallel request (two autosaves) made it first, that one, and False."""
    assert actor.id is not None
    evaluation = Evaluation(
        recording_id=recording.id,
        form_id=form_id,
        evaluator_id=actor.id,
        agent_ref=recording.agent_ref,
        queue=recording.queue,
        state=EvaluationState.DRAFT,
        version=0,
        score=None,
        comment="",
    )
    try:
        with session.begin_nested():
            session.add(evaluation)
    except IntegrityError:
        existing = open_evaluation(session, actor=actor, recording_id=recording.id, form_id=form_id)
        if existing is None:
            raise
        return existing, False
    return evaluation, True


def _check_partial(questions: Sequence[FormQuestion], answers: Mapping[str, Answer], *, duration_s: float) -> None:
    by_id = {question.id: question for question in questions}
    for question_id, answer in answers.items():
        question = by_id.get(question_id)
        if question is None:
            raise Invalid(answer_field(question_id), "this question is not on the form", why="not_on_form")
        allowed = VALUES_BY_TYPE[question.answer_type]
        if answer.value and answer.value not in allowed:
            raise _refused_answer(question, f"one of {', '.join(allowed)}: {question.text}", why="answer_choice")
        _check_extras(question, answer, duration_s)


def _check_extras(question: FormQuestion, answer: Answer, duration_s: float | None) -> None:
    if len(answer.comment.strip()) > MAX_COMMENT_CHARS:
        raise Invalid(f"comments.{question.id}", f"at most {MAX_COMMENT_CHARS} characters", why="comment_too_long")
    if answer.at_s is not None and not (math.isfinite(answer.at_s) and answer.at_s >= 0):
        raise Invalid(f"at.{question.id}", "a moment of the call in seconds", why="evidence_moment")
    if answer.at_s is not None and duration_s is not None and answer.at_s > duration_s:
        # Evidence at 1e308 s of a 5 s call was kept; a comment on the call was refused for the same.
        raise Invalid(
            f"at.{question.id}",
            f"a moment of the call, 0 to {duration_s:g} seconds",
            code="out_of_range",
            why="evidence_moment",
            values={"duration_s": duration_s},
        )


def _fill(
    evaluation: Evaluation, questions: Sequence[FormQuestion], answers: Mapping[str, Answer], comment: str
) -> None:
    """Replace the evaluation's answers (in form order) and comment with these."""
    kept = {answer.question_id: answer for answer in evaluation.answers}
    rows = []
    for question in questions:
        given = answers.get(question.id)
        if given is None or not (given.value or given.comment.strip() or given.at_s is not None):
            continue
        row = kept.get(question.id) or EvaluationAnswer(question_id=question.id)
        row.value = given.value
        row.comment = given.comment.strip()
        row.at_s = None if given.at_s is None else round(given.at_s, 3)
        rows.append(row)
    evaluation.answers = rows
    evaluation.comment = comment.strip()
