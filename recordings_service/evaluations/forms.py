"""Evaluation forms and scoring calls on them: build and version forms, publish, evaluate, trends.

A published form version is frozen: editing it writes the next version as a draft, so evaluations
keep the questions and weights they were scored on. The form offered for new evaluations is the
highest published version of each family.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, selectinload

from recordings_service.audit import Actor, record_event
from recordings_service.db import new_id, utcnow
from recordings_service.errors import Conflict, Invalid, NotFound
from recordings_service.models import Evaluation, EvaluationAnswer, EvaluationForm, FormQuestion, FormSection, Recording
from recordings_service.models.evaluation import AnswerType, FormStatus
from recordings_service.models.recording import RecordingStatus
from recordings_service.recordings import get_playable_recording, visible_to

MAX_WEIGHT = 100.0
MAX_COMMENT_CHARS = 4000
YES, NO, NA = "yes", "no", "na"
SCALE_VALUES = ("1", "2", "3", "4", "5")
VALUES_BY_TYPE: dict[str, tuple[str, ...]] = {
    AnswerType.YES_NO_NA: (YES, NO, NA),
    AnswerType.SCALE_1_5: SCALE_VALUES,
}
# The answers that fail a critical question: a plain "no", or the bottom of the scale.
FAILING_VALUES = {NO, "1"}
_QUESTIONS = selectinload(EvaluationForm.sections).selectinload(FormSection.questions)


# ---------------------------------------------------------------- forms


@dataclass(frozen=True)
class QuestionSpec:
    text: str
    weight: float = 1.0
    answer_type: str = AnswerType.YES_NO_NA
    critical: bool = False


@dataclass(frozen=True)
class SectionSpec:
    title: str
    questions: tuple[QuestionSpec, ...] = ()


@dataclass(frozen=True)
class FormSpec:
    """A form's content as an editor submits it; field names in errors follow this tree."""

    name: str
    description: str = ""
    sections: tuple[SectionSpec, ...] = ()

    @classmethod
    def of(cls, form: EvaluationForm) -> FormSpec:
        return cls(
            name=form.name,
            description=form.description,
            sections=tuple(
                SectionSpec(
                    title=section.title,
                    questions=tuple(
                        QuestionSpec(
                            text=question.text,
                            weight=question.weight,
                            answer_type=question.answer_type,
                            critical=question.critical,
                        )
                        for question in section.questions
                    ),
                )
                for section in form.sections
            ),
        )


def validate_spec(spec: FormSpec) -> None:
    """Refuse a form that cannot be scored, naming the first offending field."""
    if not spec.name.strip():
        raise Invalid("name", "a form needs a name")
    if len(spec.name) > 200:
        raise Invalid("name", "at most 200 characters")
    if not spec.sections:
        raise Invalid("sections", "a form needs at least one section")
    for s, section in enumerate(spec.sections):
        prefix = f"sections[{s}]"
        if not section.title.strip():
            raise Invalid(f"{prefix}.title", "a section needs a title")
        if len(section.title) > 200:
            raise Invalid(f"{prefix}.title", "at most 200 characters")
        if not section.questions:
            raise Invalid(f"{prefix}.questions", "a section needs at least one question")
        for q, question in enumerate(section.questions):
            where = f"{prefix}.questions[{q}]"
            if not question.text.strip():
                raise Invalid(f"{where}.text", "a question needs its text")
            if len(question.text) > 500:
                raise Invalid(f"{where}.text", "at most 500 characters")
            if not 0 < question.weight <= MAX_WEIGHT:
                raise Invalid(f"{where}.weight", f"a weight is above 0 and at most {MAX_WEIGHT:g}")
            if question.answer_type not in VALUES_BY_TYPE:
                raise Invalid(f"{where}.answer_type", f"one of {', '.join(VALUES_BY_TYPE)}")


def create_form(session: Session, *, actor: Actor, spec: FormSpec) -> EvaluationForm:
    """Version 1 of a new form family, as a draft."""
    validate_spec(spec)
    form = EvaluationForm(family_id=new_id(), version=1, status=FormStatus.DRAFT, created_by=actor.id)
    _fill(form, spec)
    session.add(form)
    session.flush()
    record_event(
        session, actor=actor, action="form.created", object_type="evaluation_form", object_id=form.id, details={}
    )
    return form


def edit_form(session: Session, *, actor: Actor, form_id: str, spec: FormSpec) -> EvaluationForm:
    """Change a draft in place; for a published version, write the family's next version as a draft."""
    validate_spec(spec)
    form = get_form(session, form_id)
    if form.status == FormStatus.DRAFT:
        form.sections.clear()
        session.flush()  # the old rows go before the new ones are inserted
        _fill(form, spec)
    else:
        latest = session.scalar(
            select(func.max(EvaluationForm.version)).where(EvaluationForm.family_id == form.family_id)
        )
        if latest != form.version:
            raise Conflict(f"version {latest} of this form exists; edit that version instead")
        form = EvaluationForm(
            family_id=form.family_id, version=form.version + 1, status=FormStatus.DRAFT, created_by=actor.id
        )
        _fill(form, spec)
        session.add(form)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="form.edited",
        object_type="evaluation_form",
        object_id=form.id,
        details={"family_id": form.family_id, "version": form.version},
    )
    return form


def publish_form(session: Session, *, actor: Actor, form_id: str) -> EvaluationForm:
    """Freeze a draft and offer it for evaluations (it supersedes the family's older versions)."""
    form = get_form(session, form_id)
    if form.status != FormStatus.DRAFT:
        raise Conflict(f"version {form.version} of this form is already published")
    validate_spec(FormSpec.of(form))
    form.status = FormStatus.PUBLISHED
    form.published_at = utcnow()
    session.flush()
    record_event(
        session,
        actor=actor,
        action="form.published",
        object_type="evaluation_form",
        object_id=form.id,
        details={"family_id": form.family_id, "version": form.version},
    )
    return form


def get_form(session: Session, form_id: str) -> EvaluationForm:
    form = session.scalar(select(EvaluationForm).where(EvaluationForm.id == form_id).options(_QUESTIONS))
    if form is None:
        raise NotFound(f"evaluation form {form_id} not found")
    return form


def list_forms(session: Session) -> list[EvaluationForm]:
    """Every version of every form, grouped by family, newest version first."""
    return list(
        session.scalars(
            select(EvaluationForm).order_by(
                EvaluationForm.name, EvaluationForm.family_id, EvaluationForm.version.desc()
            )
        )
    )


def current_forms(session: Session) -> list[EvaluationForm]:
    """The highest published version of each family: the forms new evaluations use."""
    latest = (
        select(EvaluationForm.family_id, func.max(EvaluationForm.version).label("version"))
        .where(EvaluationForm.status == FormStatus.PUBLISHED)
        .group_by(EvaluationForm.family_id)
        .subquery()
    )
    query = (
        select(EvaluationForm)
        .join(latest, and_(EvaluationForm.family_id == latest.c.family_id, EvaluationForm.version == latest.c.version))
        .order_by(EvaluationForm.name)
        .options(_QUESTIONS)
    )
    return list(session.scalars(query))


def _fill(form: EvaluationForm, spec: FormSpec) -> None:
    form.name = spec.name.strip()
    form.description = spec.description.strip()
    form.sections = [
        FormSection(
            position=s,
            title=section.title.strip(),
            questions=[
                FormQuestion(
                    position=q,
                    text=question.text.strip(),
                    weight=question.weight,
                    answer_type=question.answer_type,
                    critical=question.critical,
                )
                for q, question in enumerate(section.questions)
            ],
        )
        for s, section in enumerate(spec.sections)
    ]


# ---------------------------------------------------------------- scoring


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


# ---------------------------------------------------------------- reading and trends


def get_evaluation(session: Session, *, actor: Actor, evaluation_id: str) -> Evaluation:
    """One evaluation with its answers, if `actor` may see the call it scores."""
    evaluation = session.scalar(
        select(Evaluation)
        .where(Evaluation.id == evaluation_id)
        .options(selectinload(Evaluation.answers), selectinload(Evaluation.form).options(_QUESTIONS))
    )
    if evaluation is None:
        raise NotFound(f"evaluation {evaluation_id} not found")
    get_playable_recording(session, actor=actor, recording_id=evaluation.recording_id, audio=False)
    return evaluation


def recording_evaluations(session: Session, *, recording_id: str) -> list[Evaluation]:
    """A call's evaluations, newest first (the caller has already been allowed to see the call)."""
    query = (
        select(Evaluation)
        .where(Evaluation.recording_id == recording_id)
        .order_by(Evaluation.created_at.desc(), Evaluation.id.desc())
        .options(selectinload(Evaluation.form))
    )
    return list(session.scalars(query))


def agent_evaluations(session: Session, *, actor: Actor, agent_ref: str, limit: int = 200) -> list[Evaluation]:
    """An agent's evaluations of the calls `actor` may see, newest first."""
    query = (
        select(Evaluation)
        .join(Recording, Recording.id == Evaluation.recording_id)
        .where(Evaluation.agent_ref == agent_ref, visible_to(actor))
    )
    query = query.order_by(Evaluation.created_at.desc(), Evaluation.id.desc()).limit(limit)
    return list(session.scalars(query.options(selectinload(Evaluation.form))))


@dataclass(frozen=True)
class WeekScore:
    week_start: date  # the Monday
    average: float | None  # None for a week without scored evaluations
    count: int

    @property
    def label(self) -> str:
        year, week, _ = self.week_start.isocalendar()
        return f"{year}-W{week:02d}"


@dataclass
class _Bucket:
    total: float = 0.0
    count: int = 0


def week_start(moment: datetime, tz: tzinfo = UTC) -> date:
    """The Monday of the ISO week `moment` falls in, in time zone `tz`."""
    day = moment.astimezone(tz).date()
    return day - timedelta(days=day.weekday())


def week_began(moment: datetime, tz: tzinfo = UTC) -> datetime:
    """The instant the ISO week of `moment` began: Monday 00:00 in `tz`."""
    return datetime.combine(week_start(moment, tz), time(), tzinfo=tz)


def weekly_scores(
    session: Session,
    *,
    weeks: int,
    now: datetime | None = None,
    agent_ref: str | None = None,
    queue: str | None = None,
    tz: tzinfo = UTC,
) -> list[WeekScore]:
    """Average score per ISO week for the last `weeks` weeks (this one included), oldest first.

    Weeks are bucketed in Python: SQLite has no ISO-week function and PostgreSQL's differs, and a
    trend reads only a few thousand (time, score) pairs.
    """
    since = week_began(now or utcnow(), tz) - timedelta(weeks=weeks - 1)
    first = since.date()
    query = select(Evaluation.created_at, Evaluation.score).where(
        Evaluation.created_at >= since, Evaluation.score.is_not(None)
    )
    if agent_ref is not None:
        query = query.where(Evaluation.agent_ref == agent_ref)
    if queue is not None:
        query = query.where(Evaluation.queue == queue)
    buckets = {first + timedelta(weeks=n): _Bucket() for n in range(weeks)}
    for created, score in session.execute(query):
        bucket = buckets.get(week_start(created, tz))
        if bucket is not None and score is not None:
            bucket.total += score
            bucket.count += 1
    return [
        WeekScore(week_start=start, average=round(b.total / b.count, 1) if b.count else None, count=b.count)
        for start, b in buckets.items()
    ]


def evaluated_calls_since(session: Session, *, since: datetime) -> int:
    """How many distinct calls were evaluated from `since` on."""
    query = select(func.count(func.distinct(Evaluation.recording_id))).where(Evaluation.created_at >= since)
    return session.scalar(query) or 0


def queues_evaluated(session: Session) -> list[str]:
    """Queues that have evaluations, for choosing a trend."""
    return list(session.scalars(select(Evaluation.queue).distinct().order_by(Evaluation.queue)))


# ---------------------------------------------------------------- the default form

_YNA, _SCALE = AnswerType.YES_NO_NA, AnswerType.SCALE_1_5
DEFAULT_FORM = FormSpec(
    name="Customer service call (energy retail)",
    description="Standard quality form for inbound and outbound calls about electricity contracts.",
    sections=(
        SectionSpec(
            "Opening",
            (
                QuestionSpec("Greeted the customer and gave own name and the company's name", 1.0, _YNA),
                QuestionSpec("Told the customer that the call is recorded, and why (GDPR notice)", 2.0, _YNA),
            ),
        ),
        SectionSpec(
            "Identification",
            (
                QuestionSpec(
                    "Verified the customer's identity (name and customer number or address) before discussing "
                    "the account",
                    2.0,
                    _YNA,
                ),
            ),
        ),
        SectionSpec(
            "Needs analysis",
            (
                QuestionSpec("Asked open questions to find out what the customer needs", 2.0, _SCALE),
                QuestionSpec("Summarised the need back to the customer", 1.0, _YNA),
            ),
        ),
        SectionSpec(
            "Offer and agreement",
            (
                QuestionSpec(
                    "Gave correct price and contract information (energy price, monthly fee, term, cancellation terms)",
                    3.0,
                    _YNA,
                    critical=True,
                ),
                QuestionSpec(
                    "Confirmed the agreement explicitly: the customer accepted the named product, price and start date",
                    3.0,
                    _YNA,
                    critical=True,
                ),
            ),
        ),
        SectionSpec(
            "Closing",
            (
                QuestionSpec(
                    "Explained the next steps (written confirmation, start date, 14-day right of withdrawal)",
                    1.0,
                    _YNA,
                ),
                QuestionSpec("Tone and courtesy throughout the call", 1.0, _SCALE),
                QuestionSpec("Closed the call politely and asked whether anything else was needed", 1.0, _YNA),
            ),
        ),
    ),
)


def seed_default_form(session: Session, *, actor: Actor) -> EvaluationForm | None:
    """Create and publish the default form unless a form of that name exists; None when it already did."""
    if session.scalar(select(EvaluationForm.id).where(EvaluationForm.name == DEFAULT_FORM.name).limit(1)):
        return None
    form = create_form(session, actor=actor, spec=DEFAULT_FORM)
    return publish_form(session, actor=actor, form_id=form.id)
