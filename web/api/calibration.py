"""Calibration sessions API: one call scored blind by several supervisors; results once every one has submitted
(or the organiser closes the session). Calibration scores never count in agent results."""

from __future__ import annotations

from typing import Annotated

from flask import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field
from spectree import Response as SpecResponse

from recordings_service.evaluations import calibration
from recordings_service.evaluations.calibration import CalibrationView
from recordings_service.evaluations.scoring import Answer
from recordings_service.permissions import Permission
from recordings_service.recordings import EntityId, IsoDatetime
from web.access import current_actor, requires
from web.api import api_spec
from web.api.evaluation_shapes import Comment
from web.api.validation import ErrorBody, as_json, next_id_cursor, refuse_invalid, trimmed
from web.database import db

bp = Blueprint("calibration_api", __name__, url_prefix="/api/v1")
TAGS = ["calibration"]
MAX_PAGE = 100


class CalibrationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recording_id: EntityId
    form_id: str = Field(min_length=1, max_length=26, description="a published evaluation form version")
    participant_ids: list[EntityId] = Field(
        min_length=calibration.MIN_PARTICIPANTS,
        max_length=calibration.MAX_PARTICIPANTS,
        description="user ids of the supervisors who score the call (the organiser may be one of them)",
    )
    title: Annotated[str, trimmed(calibration.MAX_TITLE_CHARS)] = ""


class CalibrationAnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: str = Field(description='"yes", "no", "na", or "1".."5" on a scale question')
    comment: Comment = ""


class CalibrationScoresIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: dict[str, CalibrationAnswerIn] = Field(description="by question id: every question of the form")
    comment: Comment = ""


class CalibrationsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)


class CalibrationParticipantOut(BaseModel):
    user_id: str
    username: str
    submitted: bool


class CalibrationAnswerOut(BaseModel):
    value: str
    comment: str


class CalibrationQuestionOut(BaseModel):
    question_id: str
    text: str
    counts: dict[str, int] = Field(description="participants per answer value")
    modal: list[str] = Field(description="the most common answer(s)")
    agreement: float = Field(description="share of participants who gave the most common answer, 0..1")


class CalibrationEvaluatorOut(BaseModel):
    user_id: str
    username: str
    score: float | None
    critical_failed: bool
    deviation: float | None = Field(description="score minus the median score")
    answers: dict[str, str] = Field(description="answer value by question id")


class CalibrationResultsOut(BaseModel):
    submitted: int
    median: float | None = Field(description="median of the participants' scores")
    agreement: float | None = Field(description="mean of the questions' agreement")
    questions: list[CalibrationQuestionOut]
    evaluators: list[CalibrationEvaluatorOut]


class CalibrationSummaryOut(BaseModel):
    id: str
    title: str
    recording_id: str
    form_id: str
    organiser_id: str
    state: str = Field(description="open, revealed (every participant submitted) or closed")
    participants: int
    submitted: int
    created_at: IsoDatetime


class CalibrationOut(BaseModel):
    id: str
    title: str
    recording_id: str
    form_id: str
    form_version: int
    organiser_id: str
    state: str = Field(description="open, revealed (every participant submitted) or closed")
    created_at: IsoDatetime
    closed_at: IsoDatetime | None
    revealed_at: IsoDatetime | None
    participants: list[CalibrationParticipantOut]
    my_answers: dict[str, CalibrationAnswerOut] | None = Field(description="your own submitted answers, if any")
    my_score: float | None
    results: CalibrationResultsOut | None = Field(description="everyone's scores: only once revealed")


class CalibrationPageOut(BaseModel):
    items: list[CalibrationSummaryOut]
    next_cursor: str | None


def state_of(closed: bool, revealed: bool) -> str:
    return "closed" if closed else "revealed" if revealed else "open"


def calibration_out(view: CalibrationView) -> CalibrationOut:
    found, mine, results = view.calibration, view.mine, view.results
    submitted = mine is not None and mine.submitted_at is not None
    return CalibrationOut(
        id=found.id,
        title=found.title,
        recording_id=found.recording_id,
        form_id=found.form_id,
        form_version=found.form.version,
        organiser_id=found.organiser_id,
        state=state_of(found.closed_at is not None, view.revealed),
        created_at=found.created_at,
        closed_at=found.closed_at,
        revealed_at=found.revealed_at,
        participants=[
            CalibrationParticipantOut(
                user_id=p.user_id, username=view.names.get(p.user_id, ""), submitted=p.submitted_at is not None
            )
            for p in view.participants
        ],
        my_answers={a.question_id: CalibrationAnswerOut(value=a.value, comment=a.comment) for a in mine.answers}
        if mine is not None and submitted
        else None,
        my_score=mine.score if mine is not None else None,
        results=None
        if results is None
        else CalibrationResultsOut(
            submitted=results.submitted,
            median=results.median,
            agreement=results.agreement,
            questions=[
                CalibrationQuestionOut(
                    question_id=q.question_id, text=q.text, counts=q.counts, modal=list(q.modal), agreement=q.agreement
                )
                for q in results.questions
            ],
            evaluators=[
                CalibrationEvaluatorOut(
                    user_id=e.user_id,
                    username=e.username,
                    score=e.score,
                    critical_failed=e.critical_failed,
                    deviation=e.deviation,
                    answers=e.answers,
                )
                for e in results.evaluators
            ],
        ),
    )


@bp.post("/calibration-sessions")
@requires(Permission.EVALUATION_WRITE)
@api_spec.validate(
    resp=SpecResponse(HTTP_201=CalibrationOut, HTTP_404=ErrorBody, HTTP_422=ErrorBody), tags=TAGS, before=refuse_invalid
)
def create_calibration_session(json: CalibrationIn) -> tuple[Response, int]:
    """Create a calibration session: one call on one published form, before several supervisors (audited)."""
    actor = current_actor()
    created = calibration.create_calibration(
        db(),
        actor=actor,
        recording_id=json.recording_id,
        form_id=json.form_id,
        participant_ids=json.participant_ids,
        title=json.title,
    )
    view = calibration.view_calibration(db(), actor=actor, calibration_id=created.id)
    db().commit()
    return as_json(calibration_out(view), 201)


@bp.get("/calibration-sessions")
@requires(Permission.EVALUATION_WRITE)
@api_spec.validate(resp=SpecResponse(HTTP_200=CalibrationPageOut, HTTP_422=ErrorBody), tags=TAGS, before=refuse_invalid)
def list_calibration_sessions(query: CalibrationsQuery) -> tuple[Response, int]:
    """List the calibration sessions you organised or take part in, newest first."""
    rows = calibration.list_calibrations(db(), actor=current_actor(), cursor=query.cursor, limit=query.limit + 1)
    page = rows[: query.limit]
    items = [
        CalibrationSummaryOut(
            id=row.id,
            title=row.title,
            recording_id=row.recording_id,
            form_id=row.form_id,
            organiser_id=row.organiser_id,
            state=state_of(row.closed_at is not None, row.revealed_at is not None),
            participants=len(row.participants),
            submitted=sum(1 for p in row.participants if p.submitted_at is not None),
            created_at=row.created_at,
        )
        for row in page
    ]
    following = next_id_cursor(rows, query.limit, calibration.CURSOR_TAG)
    return as_json(CalibrationPageOut(items=items, next_cursor=following))


@bp.get("/calibration-sessions/<calibration_id>")
@requires(Permission.EVALUATION_WRITE)
@api_spec.validate(resp=SpecResponse(HTTP_200=CalibrationOut, HTTP_403=ErrorBody, HTTP_404=ErrorBody), tags=TAGS)
def get_calibration_session(calibration_id: str) -> tuple[Response, int]:
    """Get a calibration session: your own scores, and everyone's with the agreement figures once revealed."""
    view = calibration.view_calibration(db(), actor=current_actor(), calibration_id=calibration_id)
    return as_json(calibration_out(view))


@bp.post("/calibration-sessions/<calibration_id>/scores")
@requires(Permission.EVALUATION_WRITE)
@api_spec.validate(
    resp=SpecResponse(
        HTTP_201=CalibrationOut, HTTP_403=ErrorBody, HTTP_404=ErrorBody, HTTP_409=ErrorBody, HTTP_422=ErrorBody
    ),
    tags=TAGS,
    before=refuse_invalid,
)
def submit_calibration_scores(calibration_id: str, json: CalibrationScoresIn) -> tuple[Response, int]:
    """Submit your scores for a calibration session (once; audited); the last submission reveals all."""
    actor = current_actor()
    calibration.submit_scores(
        db(),
        actor=actor,
        calibration_id=calibration_id,
        answers={qid: Answer(value=a.value, comment=a.comment) for qid, a in json.answers.items()},
        comment=json.comment,
    )
    view = calibration.view_calibration(db(), actor=actor, calibration_id=calibration_id)
    db().commit()
    return as_json(calibration_out(view), 201)


@bp.post("/calibration-sessions/<calibration_id>/close")
@requires(Permission.EVALUATION_WRITE)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=CalibrationOut, HTTP_403=ErrorBody, HTTP_404=ErrorBody, HTTP_409=ErrorBody), tags=TAGS
)
def close_calibration_session(calibration_id: str) -> tuple[Response, int]:
    """Close a calibration session you organised: no more submissions, and the scores so far are revealed."""
    actor = current_actor()
    calibration.close_calibration(db(), actor=actor, calibration_id=calibration_id)
    view = calibration.view_calibration(db(), actor=actor, calibration_id=calibration_id)
    db().commit()
    return as_json(calibration_out(view))
