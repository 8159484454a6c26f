"""The evaluations API's request and response shapes (`web.api.evaluations`), and their conversions."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from recordings_service.calls import review
from recordings_service.errors import Invalid
from recordings_service.evaluations.comments import MAX_COMMENT_CHARS
from recordings_service.evaluations.history import EvaluationFilters, ListedEvaluation
from recordings_service.evaluations.scoring import Answer, answer_field
from recordings_service.models import Evaluation, EvaluationForm
from recordings_service.recordings import MAX_PAGE, IsoDatetime
from recordings_service.training.agents import AgentNames
from web.api.validation import trimmed

Comment = Annotated[str, trimmed(MAX_COMMENT_CHARS)]


class EvaluationAnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question_id: str
    value: str = Field(default="", description='"yes", "no", "na", or "1".."5" on a scale question')
    comment: Comment = ""
    at_s: float | None = Field(default=None, ge=0, description="the moment of the call stamped as evidence")


class EvaluationCreateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recording_id: str
    form_id: str = Field(description="a published form version")
    answers: list[EvaluationAnswerIn] = Field(default_factory=list, max_length=500)
    comment: Comment = ""
    submit: bool = Field(default=False, description="false: a draft, which never counts in results")


class EvaluationUpdateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: list[EvaluationAnswerIn] = Field(default_factory=list, max_length=500)
    comment: Comment = ""
    submit: bool = Field(default=False, description="a submitted evaluation is always re-submitted as a new version")


class FeedbackAnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: Comment = Field(default="", description="required for a dispute")
    version: int | None = Field(
        default=None,
        ge=1,
        description="the version the agent read (`version` of `GET /feedback/<id>`): where the evaluator has re-scored "
        "it since, 409 `conflict` and nothing is answered",
    )


class ResolutionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Comment = Field(min_length=1)
    answers: list[EvaluationAnswerIn] | None = Field(default=None, description="re-score: the next version's answers")
    comment: Comment | None = Field(default=None, description="with `answers` only")


class EvaluationAnswerOut(BaseModel):
    question_id: str
    value: str
    comment: str
    at_s: float | None


class EvaluationOut(BaseModel):
    id: str
    recording_id: str
    form_id: str
    evaluator_id: str
    agent_ref: str
    queue: str
    state: str = Field(description="draft or submitted")
    version: int = Field(description="0 while a draft; each submit adds one, earlier versions are kept")
    score: float | None
    critical_failed: bool
    comment: str
    answers: list[EvaluationAnswerOut]
    created_at: IsoDatetime
    submitted_at: IsoDatetime | None
    released_at: IsoDatetime | None
    agent_response: str | None = Field(description="acknowledged or disputed")
    agent_comment: str
    dispute_state: str | None = Field(description="open or resolved")
    resolution_note: str


class FeedbackListOut(BaseModel):
    items: list[EvaluationOut]
    next_cursor: str | None = Field(description="pass back as `cursor` for the next (earlier released) page")


class FeedbackQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)


class EvaluationQuery(EvaluationFilters):
    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)


class FormVersionOut(BaseModel):
    id: str
    family_id: str = Field(description="shared by the form's versions")
    name: str
    version: int


class EvaluationItemOut(BaseModel):
    """An evaluation as the list shows it: `GET /evaluations/<id>` adds its answers and comments."""

    id: str
    recording_id: str
    form: FormVersionOut
    evaluator_id: str
    evaluator: str = Field(description="the evaluator's username")
    agent_ref: str = Field(
        description="the agent's ref with `agent.read` (a QA supervisor's or compliance officer's session or "
        "`evaluation` token), else the agent's stable pseudonym"
    )
    queue: str
    state: str = Field(description="draft (the caller's own only) or submitted")
    version: int = Field(description="0 while a draft; each submit adds one")
    score: float | None
    critical_failed: bool
    created_at: IsoDatetime
    submitted_at: IsoDatetime | None = Field(description="when the score that stands was submitted")
    released_at: IsoDatetime | None
    agent_response: str | None = Field(description="acknowledged or disputed")
    dispute_state: str | None = Field(description="open or resolved")


class EvaluationListOut(BaseModel):
    items: list[EvaluationItemOut]
    next_cursor: str | None = Field(description="pass back as `cursor` for the next (older) page")


class FormQuestionOut(BaseModel):
    id: str
    text: str
    weight: float
    answer_type: str
    critical: bool


class FormSectionOut(BaseModel):
    title: str
    questions: list[FormQuestionOut]


class FormOut(BaseModel):
    id: str
    family_id: str
    version: int
    name: str
    description: str
    status: str
    sections: list[FormSectionOut]


class FormListOut(BaseModel):
    items: list[FormOut]


class AnnotationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at_s: float = Field(ge=0)
    text: Annotated[str, trimmed(review.MAX_ANNOTATION_CHARS, min_length=1)]


class AnnotationOut(BaseModel):
    id: str
    at_s: float
    text: str
    author: str
    created_at: IsoDatetime


class AnnotationListOut(BaseModel):
    items: list[AnnotationOut]


def evaluation_out(evaluation: Evaluation) -> EvaluationOut:
    return EvaluationOut(
        id=evaluation.id,
        recording_id=evaluation.recording_id,
        form_id=evaluation.form_id,
        evaluator_id=evaluation.evaluator_id,
        agent_ref=evaluation.agent_ref,
        queue=evaluation.queue,
        state=evaluation.state,
        version=evaluation.version,
        score=evaluation.score,
        critical_failed=evaluation.critical_failed,
        comment=evaluation.comment,
        answers=[
            EvaluationAnswerOut(question_id=a.question_id, value=a.value, comment=a.comment, at_s=a.at_s)
            for a in evaluation.answers
        ],
        created_at=evaluation.created_at,
        submitted_at=evaluation.submitted_at,
        released_at=evaluation.released_at,
        agent_response=evaluation.agent_response,
        agent_comment=evaluation.agent_comment,
        dispute_state=evaluation.dispute_state,
        resolution_note=evaluation.resolution_note,
    )


def evaluation_item_out(listed: ListedEvaluation, *, agents: AgentNames) -> EvaluationItemOut:
    evaluation, form = listed.evaluation, listed.evaluation.form
    return EvaluationItemOut(
        id=evaluation.id,
        recording_id=evaluation.recording_id,
        form=FormVersionOut(id=form.id, family_id=form.family_id, name=form.name, version=form.version),
        evaluator_id=evaluation.evaluator_id,
        evaluator=listed.evaluator,
        agent_ref=agents(evaluation.agent_ref),
        queue=evaluation.queue,
        state=evaluation.state,
        version=evaluation.version,
        score=evaluation.score,
        critical_failed=evaluation.critical_failed,
        created_at=evaluation.created_at,
        submitted_at=evaluation.submitted_at,
        released_at=evaluation.released_at,
        agent_response=evaluation.agent_response,
        dispute_state=evaluation.dispute_state,
    )


def form_out(form: EvaluationForm) -> FormOut:
    return FormOut(
        id=form.id,
        family_id=form.family_id,
        version=form.version,
        name=form.name,
        description=form.description,
        status=form.status,
        sections=[
            FormSectionOut(
                title=section.title,
                questions=[
                    FormQuestionOut(
                        id=q.id, text=q.text, weight=q.weight, answer_type=q.answer_type, critical=q.critical
                    )
                    for q in section.questions
                ],
            )
            for section in form.sections
        ],
    )


def answers_in(given: list[EvaluationAnswerIn]) -> dict[str, Answer]:
    answers: dict[str, Answer] = {}
    for a in given:
        if a.question_id in answers:  # the last one silently won
            raise Invalid(answer_field(a.question_id), "each question is answered once", code="duplicate")
        answers[a.question_id] = Answer(value=a.value, comment=a.comment, at_s=a.at_s)
    return answers
