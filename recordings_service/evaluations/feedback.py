"""Feedback to agents: an evaluator releases an evaluation, the agent acknowledges or disputes it, and a
dispute is resolved (with a note, and a re-score as a new version when the evaluation was wrong).

Disputes land in the queue of the evaluator and of the evaluator's lead (`User.lead_id`, set by an
admin): the one person who scored the call, and the one who answers for how that person scores. A lead whose
account was disabled since (or who is no longer a QA supervisor) cannot answer: their lead answers in their place,
up the chain. An evaluator who cannot answer either (gone, or no longer a QA supervisor) with no lead who can leaves
the dispute to every QA supervisor, read when the queue is, so that one is never left unseen (the evaluator leaving
after the dispute was opened included); a dispute nobody active could answer is refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from recordings_service.audit import Actor, record_event
from recordings_service.db import cursor_moment, key_cursor, tagged_key, utcnow
from recordings_service.errors import Conflict, Forbidden, Invalid, NotFound, Refusal
from recordings_service.evaluations.comments import check_comment
from recordings_service.evaluations.lookup import evaluation_to_change, live_and_locked, load_evaluation
from recordings_service.evaluations.scoring import Answer, submit_version
from recordings_service.models import Evaluation, Recording, User
from recordings_service.models.account import Role
from recordings_service.models.evaluation import AgentResponse, DisputeState, EvaluationState
from recordings_service.models.recording import RecordingStatus, name_key
from recordings_service.recordings import MAX_PAGE, visible_to

# The feedback's cursors are marked as its own (`tagged_key`): a release and an id are the shape of the call list's
# cursor too, a call's start and id, and each list read the other's as a place of its own.
CURSOR_TAG = "feedback"


@dataclass(frozen=True)
class Dispute:
    evaluation: Evaluation
    evaluator: str
    unled: bool = False  # neither its evaluator nor a lead of theirs can answer it: every QA supervisor may


def release_evaluation(session: Session, *, actor: Actor, evaluation_id: str) -> Evaluation:
    """Show a submitted evaluation to the agent it is about; only its evaluator releases it."""
    evaluation = evaluation_to_change(session, actor=actor, evaluation_id=evaluation_id)
    if evaluation.evaluator_id != actor.id:
        raise _refused(actor, evaluation, "evaluation.release_refused", "only the evaluator releases an evaluation")
    if evaluation.state != EvaluationState.SUBMITTED:
        raise Conflict("submit the evaluation before releasing it", why="not_submitted")
    if evaluation.released_at is not None:
        raise Conflict("this evaluation is already released", why="already_released")
    evaluation.released_at = utcnow()
    session.flush()
    _audit(session, actor, "evaluation.released", evaluation, {})
    return evaluation


def my_feedback(session: Session, *, actor: Actor, cursor: str | None = None, limit: int = 50) -> list[Evaluation]:
    """The evaluations released to the agent `actor` is, newest released first: `limit` of them, after the one
    `cursor` names (`feedback_cursor`). The list grows with every release: it was read whole, and an API client's
    `limit` and `cursor` were ignored."""
    if not 1 <= limit <= MAX_PAGE + 1:
        raise Invalid("limit", f"must be between 1 and {MAX_PAGE}", code="out_of_range")
    agent_key = _agent_key(session, actor)
    if agent_key is None:
        return []
    query = (
        select(Evaluation)
        .join(Recording, Recording.id == Evaluation.recording_id)
        .where(Recording.agent_key == agent_key, Evaluation.released_at.is_not(None), visible_to(actor))
        .order_by(Evaluation.released_at.desc(), Evaluation.id.desc())
        .options(selectinload(Evaluation.form))
    )
    if cursor:  # `?cursor=` is the first page, as on every other list
        (released_text,), last_id = tagged_key(cursor, CURSOR_TAG, 2)
        released = cursor_moment(released_text)
        earlier = and_(Evaluation.released_at == released, Evaluation.id < last_id)
        query = query.where(or_(Evaluation.released_at < released, earlier))
    return list(session.scalars(query.limit(limit)))


def feedback_cursor(evaluation: Evaluation) -> str:
    """The cursor after `evaluation` in `my_feedback`'s order: when it was released, and its id."""
    assert evaluation.released_at is not None  # the list holds released evaluations only
    return key_cursor(CURSOR_TAG, evaluation.released_at.isoformat(), evaluation.id)


def get_feedback(session: Session, *, actor: Actor, evaluation_id: str) -> Evaluation:
    """One evaluation released to the agent `actor` is, of a call they may see; any other is not
    found (and the refusal audited): a restricted call's evaluations are compliance's only."""
    evaluation = load_evaluation(session, evaluation_id)
    agent_key = _agent_key(session, actor)
    if (
        evaluation is None
        or evaluation.released_at is None
        or agent_key is None
        or name_key(evaluation.agent_ref) != agent_key
        or session.scalar(select(Recording.id).where(Recording.id == evaluation.recording_id, visible_to(actor)))
        is None
    ):
        raise NotFound(
            f"evaluation {evaluation_id} not found",
            refusal=Refusal(actor, "evaluation.feedback_refused", "evaluation", evaluation_id, {}),
        )
    return evaluation


def deleted_calls(session: Session, *, evaluations: Sequence[Evaluation]) -> set[str]:
    """The ids of these evaluations' calls that have been deleted (by the retention sweep or an erasure).

    Their evaluations stay, scores only, for the trends; the call can no longer be played, and nothing new is
    written about it (`require_live_call`): no acknowledgement, dispute or resolution."""
    wanted = {evaluation.recording_id for evaluation in evaluations}
    if not wanted:
        return set()
    live = session.scalars(
        select(Recording.id).where(Recording.id.in_(wanted), Recording.status != RecordingStatus.DELETED)
    )
    return wanted - set(live)


def acknowledge(
    session: Session, *, actor: Actor, evaluation_id: str, comment: str = "", version: int | None = None
) -> Evaluation:
    """The agent has read the evaluation (its `version`, where the caller names the one read) and accepts it."""
    return _respond(
        session,
        actor=actor,
        evaluation_id=evaluation_id,
        response=AgentResponse.ACKNOWLEDGED,
        comment=comment,
        version=version,
    )


def dispute(
    session: Session, *, actor: Actor, evaluation_id: str, comment: str, version: int | None = None
) -> Evaluation:
    """The agent disagrees, saying why; the evaluation lands in the evaluator's and their lead's queue."""
    return _respond(
        session,
        actor=actor,
        evaluation_id=evaluation_id,
        response=AgentResponse.DISPUTED,
        comment=comment,
        version=version,
    )


def _respond(
    session: Session,
    *,
    actor: Actor,
    evaluation_id: str,
    response: AgentResponse,
    comment: str,
    version: int | None,
) -> Evaluation:
    evaluation = live_and_locked(
        session, actor=actor, evaluation=get_feedback(session, actor=actor, evaluation_id=evaluation_id)
    )
    # A re-score clears the answer to the version before it: answering on, unchecked, accepted a version never read.
    # Checked first: a form refused for its comment came back with the new version, the re-score unsaid.
    if version is not None and version != evaluation.version:
        raise Conflict(
            f"the evaluator has re-scored this evaluation since you read version {version}: read version "
            f"{evaluation.version}, then answer",
            why="rescored_since_read",
        )
    if response == AgentResponse.DISPUTED and not comment.strip():
        raise Invalid("comment", "say what you dispute", code="required")
    check_comment("comment", comment, why="too_long")
    if evaluation.agent_response is not None:
        raise Conflict("this evaluation has already been answered", why="already_answered")
    details: dict[str, object] = {}
    if response == AgentResponse.DISPUTED:
        details["lead_id"] = _dispute_lead(session, evaluation)
        if details["lead_id"] is None and _unled(_people(session), evaluation.evaluator_id):
            details["to_every_supervisor"] = True
    evaluation.agent_response = response
    evaluation.agent_comment = comment.strip()
    evaluation.responded_at = utcnow()
    if response == AgentResponse.DISPUTED:
        evaluation.dispute_state = DisputeState.OPEN
    session.flush()
    _audit(session, actor, f"evaluation.{response.value}", evaluation, details)
    return evaluation


def _dispute_lead(session: Session, evaluation: Evaluation) -> str | None:
    """The lead a dispute of `evaluation` goes to besides its evaluator; `Conflict` when nobody active would see it
    (nor any QA supervisor, to whom it goes when neither its evaluator nor a lead of theirs can answer)."""
    people = _people(session)
    lead = _acting_lead(people, evaluation.evaluator_id)
    if lead is None and not any(person.may_lead for person in people.values()):
        raise Conflict(
            "nobody can answer a dispute of this evaluation now: the account of the supervisor who scored it is "
            "disabled and they have no active lead; ask an administrator to name one",
            why="no_dispute_lead",
        )
    return lead


@dataclass(frozen=True)
class _Person:
    lead_id: str | None
    active: bool
    may_lead: bool


def _people(session: Session) -> dict[str, _Person]:
    """Every account's lead and whether it can answer disputes: what routing them reads (a few hundred rows)."""
    rows = session.execute(select(User.id, User.lead_id, User.active, User.role))
    return {
        user_id: _Person(lead_id=lead_id, active=active, may_lead=active and role == Role.QA_SUPERVISOR)
        for user_id, lead_id, active, role in rows
    }


def _acting_lead(people: Mapping[str, _Person], user_id: str) -> str | None:
    """The first lead up from `user_id`'s own who can answer disputes (active, a QA supervisor); none past a loop."""
    seen = {user_id}
    lead_id = people[user_id].lead_id if user_id in people else None
    while lead_id is not None and lead_id not in seen:
        lead = people.get(lead_id)
        if lead is None:
            return None
        if lead.may_lead:
            return lead_id
        seen.add(lead_id)
        lead_id = lead.lead_id
    return None


def _unled(people: Mapping[str, _Person], user_id: str) -> bool:
    """Whether neither `user_id` (gone, or no longer a QA supervisor) nor a lead of theirs can answer the disputes of
    what they scored: then every QA supervisor may, rather than nobody."""
    person = people.get(user_id)
    return not (person is not None and person.may_lead) and _acting_lead(people, user_id) is None


def dispute_queue(session: Session, *, actor: Actor) -> list[Dispute]:
    """Open disputes of the evaluations `actor` scored, or that someone they lead scored (for a QA supervisor, also
    those neither their evaluator nor a lead of theirs can answer), of calls `actor` may see and still resolve (a
    restricted call's are compliance's only; a deleted call's can no longer be); oldest first."""
    people = _people(session)
    answered = [user_id for user_id in people if _acting_lead(people, user_id) == actor.id]
    actor_may_lead = actor.id is not None and actor.id in people and people[actor.id].may_lead
    unled = [user_id for user_id in people if _unled(people, user_id)] if actor_may_lead else []
    evaluator = aliased(User)
    query = (
        select(Evaluation, evaluator.username)
        .join(evaluator, evaluator.id == Evaluation.evaluator_id)
        .join(Recording, Recording.id == Evaluation.recording_id)
        .where(
            Evaluation.dispute_state == DisputeState.OPEN,
            or_(
                Evaluation.evaluator_id == actor.id,
                Evaluation.evaluator_id.in_(answered),
                Evaluation.evaluator_id.in_(unled),
            ),
            visible_to(actor),
            Recording.status != RecordingStatus.DELETED,
        )
        .order_by(Evaluation.responded_at, Evaluation.id)
        .options(selectinload(Evaluation.form))
    )
    return [
        Dispute(evaluation=row[0], evaluator=row[1], unled=row[0].evaluator_id in unled)
        for row in session.execute(query)
    ]


def may_resolve(session: Session, *, actor: Actor, evaluation: Evaluation) -> bool:
    """The evaluator, or the lead who answers for them; any QA supervisor when neither can."""
    if actor.id is None:
        return False
    if evaluation.evaluator_id == actor.id:
        return True
    people = _people(session)
    if _acting_lead(people, evaluation.evaluator_id) == actor.id:
        return True
    return actor.id in people and people[actor.id].may_lead and _unled(people, evaluation.evaluator_id)


def resolve_dispute(
    session: Session,
    *,
    actor: Actor,
    evaluation_id: str,
    note: str,
    answers: Mapping[str, Answer] | None = None,
    comment: str | None = None,
) -> Evaluation:
    """Close an open dispute with a note; new `answers` re-score the evaluation as its next version."""
    evaluation = evaluation_to_change(session, actor=actor, evaluation_id=evaluation_id)
    if not may_resolve(session, actor=actor, evaluation=evaluation):
        raise _refused(actor, evaluation, "evaluation.resolve_refused", "only the evaluator or their lead resolves")
    if evaluation.dispute_state != DisputeState.OPEN:
        raise Conflict("this evaluation has no open dispute", why="no_open_dispute")
    if not note.strip():
        raise Invalid("note", "say how the dispute was resolved", code="required")
    check_comment("note", note, why="resolution_too_long")
    if comment is not None and not answers:  # it would be dropped: the overall comment is a version's
        raise Invalid("comment", "a new overall comment comes with a re-score: send the answers too", why="no_rescore")
    previous = evaluation.score
    if answers:
        submit_version(
            session,
            actor=actor,
            evaluation=evaluation,
            answers=answers,
            comment=evaluation.comment if comment is None else comment,
        )
    evaluation.dispute_state = DisputeState.RESOLVED
    evaluation.resolution_note = note.strip()
    evaluation.resolved_by = actor.id
    evaluation.resolved_at = utcnow()
    session.flush()
    _audit(
        session,
        actor,
        "evaluation.dispute_resolved",
        evaluation,
        {"rescored": bool(answers), "previous_score": previous, "score": evaluation.score},
    )
    return evaluation


def _agent_key(session: Session, actor: Actor) -> str | None:
    """The agent the agent account `actor` is, in any letter case and Unicode form (`User.agent_key`)."""
    if actor.role != Role.AGENT or actor.id is None:
        return None
    return session.scalar(select(User.agent_key).where(User.id == actor.id))


def _refused(actor: Actor, evaluation: Evaluation, action: str, message: str) -> Forbidden:
    return Forbidden(message, refusal=Refusal(actor, action, "evaluation", evaluation.id, {}))


def _audit(session: Session, actor: Actor, action: str, evaluation: Evaluation, details: dict[str, object]) -> None:
    record_event(
        session,
        actor=actor,
        action=action,
        object_type="recording",
        object_id=evaluation.recording_id,
        details={"evaluation_id": evaluation.id, "version": evaluation.version, **details},
    )
