"""Finding one evaluation: to read it (anyone who may see its call; a draft, its evaluator only) or to change it
(locked, and only while its call is live); and a call's latest one, whose score the call list and the trainers'
sampling show."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from recordings_service.audit import Actor
from recordings_service.errors import Conflict, NotFound, Refusal
from recordings_service.evaluations.forms import WITH_QUESTIONS
from recordings_service.models import Evaluation, Recording
from recordings_service.models.evaluation import EvaluationState
from recordings_service.recordings import get_playable_recording, still_live

SUBMITTED = Evaluation.state == EvaluationState.SUBMITTED
# A call's submitted evaluations, the one whose score stands last first: submitted (or re-scored) last, whenever its
# draft was begun. Ordered by when each was begun, a draft begun first and submitted last lost to one submitted before
# it (the call list showed and filtered the older score; found by exploratory testing of the QA workflow).
LATEST_FIRST = (Evaluation.submitted_at.desc().nulls_last(), Evaluation.created_at.desc(), Evaluation.id.desc())


def latest_score() -> Any:
    """The score of the outer query's recording's latest evaluation (NULL when none, or when nothing in it was
    scorable); drafts do not count."""
    return (
        select(Evaluation.score)
        .where(Evaluation.recording_id == Recording.id, SUBMITTED)
        .order_by(*LATEST_FIRST)
        .limit(1)
        .scalar_subquery()
    )


def load_evaluation(session: Session, evaluation_id: str, *, lock: bool = False) -> Evaluation | None:
    """One evaluation with its answers and form, locked against a concurrent change when `lock`; who may see it
    is the caller's rule."""
    query = (
        select(Evaluation)
        .where(Evaluation.id == evaluation_id)
        .options(selectinload(Evaluation.answers), selectinload(Evaluation.form).options(WITH_QUESTIONS))
    )
    if lock:
        query = query.with_for_update(of=Evaluation).execution_options(populate_existing=True)
    return session.scalar(query)


class CallDeleted(Conflict):
    """The evaluation's call was deleted since (retention, erasure): its scores stay for the trends, but nothing new
    is written about the call, so it is no longer released, answered, resolved or re-scored."""


def evaluation_to_change(session: Session, *, actor: Actor, evaluation_id: str) -> Evaluation:
    """An evaluation to change now, locked (two releases or re-scores at once are one after the other): its call
    visible to `actor` (a restricted call is compliance's only) and not deleted (`CallDeleted`, 409)."""
    evaluation = load_evaluation(session, evaluation_id)
    if evaluation is None:
        raise NotFound(f"evaluation {evaluation_id} not found")
    return live_and_locked(session, actor=actor, evaluation=evaluation)


def live_and_locked(session: Session, *, actor: Actor, evaluation: Evaluation) -> Evaluation:
    """The evaluation read again under its row lock, once its call is known live and share-locked: in that order,
    as deletion locks the call before the evaluations it blanks (the other order could deadlock with it)."""
    require_live_call(session, actor=actor, evaluation=evaluation)
    locked = load_evaluation(session, evaluation.id, lock=True)
    if locked is None:  # evaluations outlive their calls; only a rolled-back insert could vanish
        raise NotFound(f"evaluation {evaluation.id} not found")
    return locked


def require_live_call(session: Session, *, actor: Actor, evaluation: Evaluation) -> None:
    """The evaluation's call is one `actor` may see (else not found, the refusal audited) and not deleted (share-
    locked, `still_live`): a 409 that says why, where the evaluation's page already says the call was deleted."""
    recording = get_playable_recording(session, actor=actor, recording_id=evaluation.recording_id, audio=False)
    if not still_live(session, recording):
        raise CallDeleted(
            f"the call of evaluation {evaluation.id} has been deleted: nothing new is written about it",
            why="call_deleted",
        )


def get_evaluation(session: Session, *, actor: Actor, evaluation_id: str) -> Evaluation:
    """One evaluation with its answers, if `actor` may see the call it scores; a draft is its evaluator's only."""
    evaluation = load_evaluation(session, evaluation_id)
    if evaluation is None:
        raise NotFound(f"evaluation {evaluation_id} not found")
    if evaluation.state == EvaluationState.DRAFT and evaluation.evaluator_id != actor.id:
        refused = Refusal(actor, "evaluation.draft_refused", "evaluation", evaluation_id)
        raise NotFound(f"evaluation {evaluation_id} not found", refusal=refused)
    get_playable_recording(session, actor=actor, recording_id=evaluation.recording_id, audio=False)
    return evaluation
