"""Evaluations API: score a call (draft or submitted), change it (a submitted one gets a new version), release
it to the agent, the agent's acknowledgement or dispute and its resolution; the forms to score on (read); and
the comments at moments of a call (annotations)."""

from __future__ import annotations

from flask import Blueprint, Response, request
from spectree import Response as SpecResponse

from recordings_service.calls import review
from recordings_service.evaluations import feedback, history, lookup, scoring
from recordings_service.evaluations import forms as evaluation_forms
from recordings_service.permissions import Permission
from recordings_service.training.agents import AgentNames
from web.access import current_actor, current_can, requires
from web.api import api_spec
from web.api.evaluation_shapes import (
    AnnotationIn,
    AnnotationListOut,
    AnnotationOut,
    EvaluationCreateIn,
    EvaluationListOut,
    EvaluationOut,
    EvaluationQuery,
    EvaluationUpdateIn,
    FeedbackAnswerIn,
    FeedbackListOut,
    FeedbackQuery,
    FormListOut,
    FormOut,
    ResolutionIn,
    answers_in,
    evaluation_item_out,
    evaluation_out,
    form_out,
)
from web.api.recordings import refuse_identity_filters
from web.api.validation import ErrorBody, NoQuery, as_json, next_cursor, refuse_invalid
from web.database import db
from web.identities import request_agent_names

bp = Blueprint("evaluations_api", __name__, url_prefix="/api/v1")
TAGS = ["evaluations"]


@bp.before_request
def recording_first() -> None:
    """A recording hidden from the actor (the refusal audited), or deleted, is not found before the request body is
    read."""
    recording_id = (request.view_args or {}).get("recording_id")
    if recording_id is not None:
        review.reviewed_recording(db(), actor=current_actor(), recording_id=recording_id)


_WRITE_ERRORS = {"HTTP_403": ErrorBody, "HTTP_404": ErrorBody, "HTTP_409": ErrorBody, "HTTP_422": ErrorBody}


# ---------------------------------------------------------------- evaluations


@bp.post("/evaluations")
@requires(Permission.EVALUATION_WRITE)
@api_spec.validate(resp=SpecResponse(HTTP_201=EvaluationOut, **_WRITE_ERRORS), tags=TAGS, before=refuse_invalid)
def create_evaluation(json: EvaluationCreateIn) -> tuple[Response, int]:
    """Score a call on a published form, as a draft or submitted; one per call, form version and evaluator."""
    created = scoring.create_evaluation(
        db(),
        actor=current_actor(),
        recording_id=json.recording_id,
        form_id=json.form_id,
        answers=answers_in(json.answers),
        comment=json.comment,
        submit=json.submit,
    )
    db().commit()
    return as_json(evaluation_out(created), 201)


@bp.get("/evaluations")
@requires(Permission.EVALUATION_READ)
@api_spec.validate(
    query=EvaluationQuery,
    resp=SpecResponse(HTTP_200=EvaluationListOut, HTTP_403=ErrorBody, HTTP_422=ErrorBody),
    tags=TAGS,
    before=refuse_invalid,
)
def list_evaluations(query: EvaluationQuery) -> tuple[Response, int]:
    """Evaluations of the calls the caller may see, newest first, without their answers (`GET /evaluations/<id>`):
    drafts only the caller's own. Filter by `submitted_from` (inclusive) and `submitted_to` (exclusive), `queue` and
    `agent_ref` (any letter case), `form_id` (a version), `state` and `recording_id`; pass `next_cursor` back as
    `cursor` for the next page. The agent is named as the recordings API names them (a pseudonym without
    `agent.read`); each page is audited as `evaluation.listed` (counts and the filters' names)."""
    refuse_identity_filters(agent_ref=query.agent_ref)
    page = history.browse_evaluations(
        db(),
        actor=current_actor(),
        filters=history.EvaluationFilters.model_validate(query.model_dump(exclude={"cursor", "limit"})),
        cursor=query.cursor,
        limit=query.limit,
    )
    # Committed before the page names agents: a first pseudonym makes its key in a session of its own, which on
    # SQLite would wait for this one's write lock (as the call list does).
    db().commit()
    agents = AgentNames(None) if current_can(Permission.AGENT_READ) else request_agent_names()
    items = [evaluation_item_out(item, agents=agents) for item in page.items]
    return as_json(EvaluationListOut(items=items, next_cursor=page.next_cursor))


@bp.get("/evaluations/<evaluation_id>")
@requires(Permission.EVALUATION_READ)
@api_spec.validate(resp=SpecResponse(HTTP_200=EvaluationOut, HTTP_404=ErrorBody), tags=TAGS)
def get_evaluation(evaluation_id: str) -> tuple[Response, int]:
    """One evaluation with its answers and where it stands with the agent."""
    return as_json(evaluation_out(lookup.get_evaluation(db(), actor=current_actor(), evaluation_id=evaluation_id)))


@bp.put("/evaluations/<evaluation_id>")
@requires(Permission.EVALUATION_WRITE)
@api_spec.validate(resp=SpecResponse(HTTP_200=EvaluationOut, **_WRITE_ERRORS), tags=TAGS, before=refuse_invalid)
def update_evaluation(evaluation_id: str, json: EvaluationUpdateIn) -> tuple[Response, int]:
    """Replace one's own evaluation's answers: a draft stays one unless submitted; a submitted one gets a new
    version, the previous kept (audited as `evaluation.revised`)."""
    updated = scoring.update_evaluation(
        db(),
        actor=current_actor(),
        evaluation_id=evaluation_id,
        answers=answers_in(json.answers),
        comment=json.comment,
        submit=json.submit,
    )
    db().commit()
    return as_json(evaluation_out(updated))


@bp.post("/evaluations/<evaluation_id>/release")
@requires(Permission.EVALUATION_WRITE)
@api_spec.validate(resp=SpecResponse(HTTP_200=EvaluationOut, **_WRITE_ERRORS), tags=TAGS)
def release_evaluation(evaluation_id: str) -> tuple[Response, int]:
    """Show a submitted evaluation to its agent (its evaluator only)."""
    released = feedback.release_evaluation(db(), actor=current_actor(), evaluation_id=evaluation_id)
    db().commit()
    return as_json(evaluation_out(released))


@bp.get("/feedback")
@requires(Permission.FEEDBACK_RESPOND)
@api_spec.validate(
    query=FeedbackQuery,
    resp=SpecResponse(HTTP_200=FeedbackListOut, HTTP_422=ErrorBody),
    tags=TAGS,
    before=refuse_invalid,
)
def list_feedback(query: FeedbackQuery) -> tuple[Response, int]:
    """The evaluations released to the agent the token (or session) is, newest released first (*My feedback*); pass
    `next_cursor` back as `cursor` for the next page. `GET /evaluations/<id>` is the evaluators'."""
    released = feedback.my_feedback(db(), actor=current_actor(), cursor=query.cursor, limit=query.limit + 1)
    return as_json(
        FeedbackListOut(
            items=[evaluation_out(evaluation) for evaluation in released[: query.limit]],
            next_cursor=next_cursor(released, query.limit, feedback.feedback_cursor),
        )
    )


@bp.get("/feedback/<evaluation_id>")
@requires(Permission.FEEDBACK_RESPOND)
@api_spec.validate(resp=SpecResponse(HTTP_200=EvaluationOut, HTTP_404=ErrorBody), tags=TAGS)
def get_feedback(evaluation_id: str) -> tuple[Response, int]:
    """One evaluation released to the agent, before acknowledging or disputing it; any other is not found."""
    return as_json(evaluation_out(feedback.get_feedback(db(), actor=current_actor(), evaluation_id=evaluation_id)))


@bp.post("/evaluations/<evaluation_id>/acknowledge")
@requires(Permission.FEEDBACK_RESPOND)
@api_spec.validate(resp=SpecResponse(HTTP_200=EvaluationOut, **_WRITE_ERRORS), tags=TAGS, before=refuse_invalid)
def acknowledge_evaluation(evaluation_id: str, json: FeedbackAnswerIn) -> tuple[Response, int]:
    """The agent accepts an evaluation released to them."""
    answered = feedback.acknowledge(
        db(), actor=current_actor(), evaluation_id=evaluation_id, comment=json.comment, version=json.version
    )
    db().commit()
    return as_json(evaluation_out(answered))


@bp.post("/evaluations/<evaluation_id>/dispute")
@requires(Permission.FEEDBACK_RESPOND)
@api_spec.validate(resp=SpecResponse(HTTP_200=EvaluationOut, **_WRITE_ERRORS), tags=TAGS, before=refuse_invalid)
def dispute_evaluation(evaluation_id: str, json: FeedbackAnswerIn) -> tuple[Response, int]:
    """The agent disputes an evaluation released to them, saying why; it goes to the evaluator and their lead."""
    answered = feedback.dispute(
        db(), actor=current_actor(), evaluation_id=evaluation_id, comment=json.comment, version=json.version
    )
    db().commit()
    return as_json(evaluation_out(answered))


@bp.post("/evaluations/<evaluation_id>/resolve")
@requires(Permission.EVALUATION_WRITE)
@api_spec.validate(resp=SpecResponse(HTTP_200=EvaluationOut, **_WRITE_ERRORS), tags=TAGS, before=refuse_invalid)
def resolve_evaluation(evaluation_id: str, json: ResolutionIn) -> tuple[Response, int]:
    """Resolve an open dispute with a note (the evaluator or their lead); `answers` re-score it as a new version."""
    resolved = feedback.resolve_dispute(
        db(),
        actor=current_actor(),
        evaluation_id=evaluation_id,
        note=json.note,
        answers=answers_in(json.answers) if json.answers else None,
        comment=json.comment,
    )
    db().commit()
    return as_json(evaluation_out(resolved))


# ---------------------------------------------------------------- forms


@bp.get("/forms")
@requires(Permission.EVALUATION_READ)
@api_spec.validate(resp=SpecResponse(HTTP_200=FormListOut, HTTP_422=ErrorBody), tags=TAGS, before=refuse_invalid)
def list_forms(query: NoQuery) -> tuple[Response, int]:
    """The forms new evaluations use: the latest published version of each."""
    return as_json(FormListOut(items=[form_out(form) for form in evaluation_forms.current_forms(db())]))


@bp.get("/forms/<form_id>")
@requires(Permission.EVALUATION_READ)
@api_spec.validate(resp=SpecResponse(HTTP_200=FormOut, HTTP_404=ErrorBody), tags=TAGS)
def get_form(form_id: str) -> tuple[Response, int]:
    """One form version with its sections and weighted questions."""
    return as_json(form_out(evaluation_forms.get_form(db(), form_id)))


# ---------------------------------------------------------------- annotations


@bp.get("/recordings/<recording_id>/annotations")
@requires(Permission.EVALUATION_READ)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=AnnotationListOut, HTTP_404=ErrorBody, HTTP_422=ErrorBody),
    tags=TAGS,
    before=refuse_invalid,
)
def list_annotations(recording_id: str, query: NoQuery) -> tuple[Response, int]:
    """The comments on moments of a call, in call order."""
    comments = review.read_comments(db(), actor=current_actor(), recording_id=recording_id)
    db().commit()
    return as_json(
        AnnotationListOut(
            items=[
                AnnotationOut(id=c.id, at_s=c.at_s, text=c.text, author=c.author, created_at=c.created_at)
                for c in comments
            ]
        )
    )


@bp.post("/recordings/<recording_id>/annotations")
@requires(Permission.ANNOTATION_WRITE)
@api_spec.validate(resp=SpecResponse(HTTP_201=AnnotationOut, **_WRITE_ERRORS), tags=TAGS, before=refuse_invalid)
def create_annotation(recording_id: str, json: AnnotationIn) -> tuple[Response, int]:
    """A comment at a moment of the call (audited as `annotation.added`)."""
    actor = current_actor()
    note = review.add_annotation(db(), actor=actor, recording_id=recording_id, at_s=json.at_s, text=json.text)
    db().commit()
    return as_json(
        AnnotationOut(id=note.id, at_s=note.at_s, text=note.text, author=actor.name, created_at=note.created_at), 201
    )
