"""Calibration sessions: several supervisors score one call on one form, blind, then compare.

Nobody sees another participant's answers until every participant has submitted or the organiser closes the
session. The figures then shown are per question, the share of participants who gave the most common answer,
and per evaluator, the distance of their total from the median total. Calibration scores are stored apart from
evaluations and never count in an agent's results.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from recordings_service.audit import Actor, record_event
from recordings_service.db import id_cursor, utcnow
from recordings_service.errors import Conflict, Forbidden, Invalid, NotFound, Refusal
from recordings_service.evaluations.comments import check_comment
from recordings_service.evaluations.forms import WITH_QUESTIONS, replaced_by
from recordings_service.evaluations.scoring import Answer, check_answers, score_answers
from recordings_service.models import (
    CalibrationAnswer,
    CalibrationParticipant,
    CalibrationSession,
    EvaluationForm,
    Recording,
    User,
)
from recordings_service.models.evaluation import FormStatus
from recordings_service.permissions import Permission, allowed
from recordings_service.recordings import get_live_recording, get_playable_recording, visible_to
from recordings_service.written_text import refuse_controls_in_text, refuse_invisible_in_title

MIN_PARTICIPANTS = 2
MAX_PARTICIPANTS = 20
MAX_TITLE_CHARS = 200
# The tag of the calibration sessions' cursors (`id_cursor`): another list's id is no place in this one.
CURSOR_TAG = "calibration_sessions"


@dataclass(frozen=True)
class Scoring:
    """One participant's submitted scoring, as the comparison reads it."""

    user_id: str
    name: str
    total: float | None
    critical_failed: bool
    answers: dict[str, str]  # question id -> value


@dataclass(frozen=True)
class QuestionAgreement:
    question_id: str
    text: str
    counts: dict[str, int]  # answer value -> participants who gave it
    modal: tuple[str, ...]  # the most common answer(s)
    agreement: float  # share of the submitted participants who gave the modal answer, 0..1


@dataclass(frozen=True)
class EvaluatorResult:
    user_id: str
    username: str
    score: float | None
    critical_failed: bool
    deviation: float | None  # score minus the median total; None without a score
    answers: dict[str, str]  # question id -> value


@dataclass(frozen=True)
class CalibrationResults:
    submitted: int
    median: float | None  # of the totals that have one
    agreement: float | None  # mean of the questions' agreement
    questions: list[QuestionAgreement]
    evaluators: list[EvaluatorResult]


@dataclass(frozen=True)
class CalibrationView:
    """What `actor` may see of a session: their own scoring always, everyone's only once revealed."""

    calibration: CalibrationSession
    recording: Recording
    names: dict[str, str]  # user id -> username, for the participants and the organiser
    mine: CalibrationParticipant | None
    results: CalibrationResults | None

    @property
    def participants(self) -> list[CalibrationParticipant]:
        """The participants by name."""
        return sorted(self.calibration.participants, key=lambda p: self.names.get(p.user_id, ""))

    @property
    def revealed(self) -> bool:
        return self.calibration.revealed_at is not None

    @property
    def may_submit(self) -> bool:
        return self.mine is not None and self.mine.submitted_at is None and self.calibration.closed_at is None


def eligible_participants(session: Session) -> list[User]:
    """Active accounts whose role may score calls: the people a session can be put before."""
    users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.username))
    return [user for user in users if allowed(role=user.role, permission=Permission.EVALUATION_WRITE)]


def create_calibration(
    session: Session,
    *,
    actor: Actor,
    recording_id: str,
    form_id: str,
    participant_ids: Sequence[str],
    title: str = "",
) -> CalibrationSession:
    """Put one call, on one published form, before several supervisors who may each hear it."""
    try:
        recording = get_live_recording(session, actor=actor, recording_id=recording_id)
    except NotFound as exc:
        # The call id is typed into the form: named as its field, so the page keeps what was typed and says why.
        raise NotFound(exc.message, why="recording_not_found", refusal=exc.refusal, field="recording_id") from None
    form = session.get(EvaluationForm, form_id)
    if form is None:
        raise Invalid("form_id", "no such evaluation form", why="calibration_form_unknown")
    if form.status != FormStatus.PUBLISHED:
        raise Invalid("form_id", "only a published form can be used", why="calibration_form_unpublished")
    newer = replaced_by(session, form)
    if newer is not None:  # scorers calibrate on the form they score with
        message = f"version {form.version} of this form was replaced by version {newer}: use that one"
        raise Invalid("form_id", message, code="form_superseded", why="calibration_form_superseded")
    if len(title.strip()) > MAX_TITLE_CHARS:
        raise Invalid("title", f"at most {MAX_TITLE_CHARS} characters", why="calibration_title_too_long")
    refuse_invisible_in_title(title)
    chosen = list(dict.fromkeys(participant_ids))
    if not MIN_PARTICIPANTS <= len(chosen) <= MAX_PARTICIPANTS:
        raise Invalid(
            "participant_ids",
            f"between {MIN_PARTICIPANTS} and {MAX_PARTICIPANTS} different participants",
            why="calibration_participant_count",
        )
    users = {user.id: user for user in session.scalars(select(User).where(User.id.in_(chosen)))}
    for user_id in chosen:
        user = users.get(user_id)
        if user is None or not user.active:
            raise Invalid("participant_ids", f"no active account {user_id}", why="calibration_participant_inactive")
        if not allowed(role=user.role, permission=Permission.EVALUATION_WRITE):
            raise Invalid(
                "participant_ids",
                f"{user.username} may not score calls ({user.role})",
                why="calibration_participant_not_evaluator",
                values={"username": user.username},
            )
        participant = Actor(id=user.id, name=user.username, role=user.role)
        if session.scalar(select(Recording.id).where(Recording.id == recording.id, visible_to(participant))) is None:
            raise Invalid(
                "participant_ids",
                f"{user.username} may not see this call",
                why="calibration_participant_not_visible",
                values={"username": user.username},
            )
    calibration = CalibrationSession(
        recording_id=recording.id,
        form_id=form.id,
        organiser_id=actor.id,
        title=title.strip(),
        participants=[CalibrationParticipant(user_id=user_id) for user_id in chosen],
    )
    session.add(calibration)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="calibration.created",
        object_type="recording",
        object_id=recording.id,
        details={"calibration_id": calibration.id, "form_id": form.id, "participants": len(chosen)},
    )
    return calibration


def list_calibrations(
    session: Session, *, actor: Actor, cursor: str | None = None, limit: int = 50
) -> list[CalibrationSession]:
    """The sessions `actor` organised or takes part in, newest first (ids are ULIDs: time-ordered)."""
    taking_part = select(CalibrationParticipant.session_id).where(CalibrationParticipant.user_id == actor.id)
    query = (
        select(CalibrationSession)
        .join(Recording, Recording.id == CalibrationSession.recording_id)
        .where(
            or_(CalibrationSession.organiser_id == actor.id, CalibrationSession.id.in_(taking_part)),
            visible_to(actor),
        )
        .options(selectinload(CalibrationSession.participants), selectinload(CalibrationSession.form))
        .order_by(CalibrationSession.id.desc())
        .limit(limit)
    )
    if cursor:
        query = query.where(CalibrationSession.id < id_cursor(cursor, CURSOR_TAG))
    return list(session.scalars(query))


def view_calibration(session: Session, *, actor: Actor, calibration_id: str) -> CalibrationView:
    calibration = _load(session, actor=actor, calibration_id=calibration_id)
    recording = get_playable_recording(session, actor=actor, recording_id=calibration.recording_id, audio=False)
    user_ids = {participant.user_id for participant in calibration.participants} | {calibration.organiser_id}
    names = {
        row.id: row.username for row in session.execute(select(User.id, User.username).where(User.id.in_(user_ids)))
    }
    mine = next((p for p in calibration.participants if p.user_id == actor.id), None)
    results = _results(calibration, names) if calibration.revealed_at is not None else None
    return CalibrationView(calibration=calibration, recording=recording, names=names, mine=mine, results=results)


def submit_scores(
    session: Session,
    *,
    actor: Actor,
    calibration_id: str,
    answers: Mapping[str, Answer],
    comment: str = "",
) -> CalibrationParticipant:
    """A participant's one scoring of the call; the last one to submit reveals everyone's."""
    calibration = _load(session, actor=actor, calibration_id=calibration_id)
    get_live_recording(session, actor=actor, recording_id=calibration.recording_id)
    # The last two to submit at once each read the other as not yet submitted, and neither revealed the scores: the
    # session is read again under its row lock (taken after the call's share lock, as every writer about the call).
    calibration = _load(session, actor=actor, calibration_id=calibration_id, for_update=True)
    mine = next((p for p in calibration.participants if p.user_id == actor.id), None)
    if mine is None:
        refusal = Refusal(
            actor, "calibration.access_denied", "calibration_session", calibration.id, {"reason": "organiser"}
        )
        raise Forbidden("only the session's participants score the call", refusal=refusal)
    if calibration.closed_at is not None:
        raise Conflict("this calibration session is closed", why="calibration_closed")
    if mine.submitted_at is not None:
        raise Conflict("you have already submitted your scores for this session", why="calibration_submitted")
    check_comment("comment", comment)
    questions = calibration.form.questions
    check_answers(questions, answers)
    for question_id, answer in answers.items():
        refuse_controls_in_text(f"comments.{question_id}", answer.comment, what="a comment")
    score = score_answers(questions, answers)
    mine.answers = [
        CalibrationAnswer(
            question_id=question.id, value=answers[question.id].value, comment=answers[question.id].comment.strip()
        )
        for question in questions
    ]
    mine.score, mine.critical_failed = score.total, score.critical_failed
    mine.comment = comment.strip()
    mine.submitted_at = utcnow()
    session.flush()
    record_event(
        session,
        actor=actor,
        action="calibration.submitted",
        object_type="recording",
        object_id=calibration.recording_id,
        details={"calibration_id": calibration.id, "score": score.total, "critical_failed": score.critical_failed},
    )
    if all(p.submitted_at is not None for p in calibration.participants):
        _reveal(session, actor=actor, calibration=calibration, reason="all_submitted")
    return mine


def close_calibration(session: Session, *, actor: Actor, calibration_id: str) -> CalibrationSession:
    """The organiser ends the session: no more submissions, and the scores given so far are revealed."""
    # Locked as a submission locks it: a last submission at the same moment has revealed the scores or waits.
    calibration = _load(session, actor=actor, calibration_id=calibration_id, for_update=True)
    if calibration.organiser_id != actor.id:
        refusal = Refusal(
            actor, "calibration.access_denied", "calibration_session", calibration.id, {"reason": "close"}
        )
        raise Forbidden("only the session's organiser may close it", refusal=refusal)
    if calibration.closed_at is not None:
        raise Conflict("this calibration session is already closed", why="calibration_closed")
    calibration.closed_at = utcnow()
    if calibration.revealed_at is None:
        _reveal(session, actor=actor, calibration=calibration, reason="closed")
    session.flush()
    # Its own event, also where everyone had submitted (revealed before): who ended the session, and when.
    record_event(
        session,
        actor=actor,
        action="calibration.closed",
        object_type="recording",
        object_id=calibration.recording_id,
        details={"calibration_id": calibration.id},
    )
    return calibration


def _load(session: Session, *, actor: Actor, calibration_id: str, for_update: bool = False) -> CalibrationSession:
    """The session, if `actor` organised it or takes part; anyone else is refused (and the refusal audited).

    `for_update` locks its row to the end of the transaction and reads its participants anew, past what this
    session had loaded before the lock."""
    query = (
        select(CalibrationSession)
        .where(CalibrationSession.id == calibration_id)
        .options(
            selectinload(CalibrationSession.participants).selectinload(CalibrationParticipant.answers),
            selectinload(CalibrationSession.form).options(WITH_QUESTIONS),
        )
    )
    if for_update:
        query = query.with_for_update(of=CalibrationSession).execution_options(populate_existing=True)
    calibration = session.scalar(query)
    if calibration is None:
        raise NotFound(f"calibration session {calibration_id} not found")
    involved = calibration.organiser_id == actor.id or any(p.user_id == actor.id for p in calibration.participants)
    if not involved:
        refusal = Refusal(
            actor, "calibration.access_denied", "calibration_session", calibration.id, {"reason": "outsider"}
        )
        # Not found, as one that does not exist: a 403 told an outsider which ids are sessions.
        raise NotFound(f"calibration session {calibration_id} not found", refusal=refusal)
    return calibration


def _reveal(session: Session, *, actor: Actor, calibration: CalibrationSession, reason: str) -> None:
    calibration.revealed_at = utcnow()
    session.flush()
    submitted = sum(1 for p in calibration.participants if p.submitted_at is not None)
    record_event(
        session,
        actor=actor,
        action="calibration.revealed",
        object_type="recording",
        object_id=calibration.recording_id,
        details={"calibration_id": calibration.id, "reason": reason, "submitted": submitted},
    )


def _results(calibration: CalibrationSession, names: Mapping[str, str]) -> CalibrationResults:
    scorings = [
        Scoring(
            user_id=p.user_id,
            name=names.get(p.user_id, ""),
            total=p.score,
            critical_failed=p.critical_failed,
            answers={answer.question_id: answer.value for answer in p.answers},
        )
        for p in calibration.participants
        if p.submitted_at is not None
    ]
    scorings.sort(key=lambda scoring: scoring.name)
    return compare_scorings([(q.id, q.text) for q in calibration.form.questions], scorings)


def compare_scorings(questions: Sequence[tuple[str, str]], scorings: Sequence[Scoring]) -> CalibrationResults:
    """Agreement per question ((id, text) in form order) and each evaluator's deviation from the median total."""
    agreements = []
    for question_id, text in questions:
        counts = Counter(s.answers[question_id] for s in scorings if question_id in s.answers)
        top = max(counts.values(), default=0)
        agreements.append(
            QuestionAgreement(
                question_id=question_id,
                text=text,
                counts=dict(sorted(counts.items())),
                modal=tuple(sorted(value for value, count in counts.items() if count == top)),
                agreement=round(top / len(scorings), 4) if scorings else 0.0,
            )
        )
    totals = [s.total for s in scorings if s.total is not None]
    exact_median = statistics.median(totals) if totals else None
    evaluators = [
        EvaluatorResult(
            user_id=s.user_id,
            username=s.name,
            score=s.total,
            critical_failed=s.critical_failed,
            # From the median as computed, not as shown: two scorers' deviations are then equal and opposite.
            deviation=round(s.total - exact_median, 2) if s.total is not None and exact_median is not None else None,
            answers=dict(s.answers),
        )
        for s in scorings
    ]
    mean_agreement = round(statistics.fmean(a.agreement for a in agreements), 4) if scorings and agreements else None
    return CalibrationResults(
        submitted=len(scorings),
        median=None if exact_median is None else round(exact_median, 2),
        agreement=mean_agreement,
        questions=agreements,
        evaluators=evaluators,
    )
