"""Evaluation forms: build, validate, version and publish them.

A published form version is frozen: editing it writes the next version as a draft, so evaluations
keep the questions and weights they were scored on. The form offered for new evaluations is the
highest published version of each family.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, selectinload

from recordings_service.audit import Actor, record_event
from recordings_service.db import new_id, utcnow
from recordings_service.errors import Conflict, Invalid, NotFound
from recordings_service.models import EvaluationForm, FormQuestion, FormSection
from recordings_service.models.evaluation import AnswerType, FormStatus

MAX_WEIGHT = 100.0
YES, NO, NA = "yes", "no", "na"
SCALE_VALUES = ("1", "2", "3", "4", "5")
VALUES_BY_TYPE: dict[str, tuple[str, ...]] = {
    AnswerType.YES_NO_NA: (YES, NO, NA),
    AnswerType.SCALE_1_5: SCALE_VALUES,
}
# Loads a form's sections and their questions up front: every reader of a form walks all of them.
WITH_QUESTIONS = selectinload(EvaluationForm.sections).selectinload(FormSection.questions)


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
        raise Invalid("name", "a form needs a name", why="form_name_missing")
    if len(spec.name) > 200:
        raise Invalid("name", "at most 200 characters", why="form_name_too_long")
    if not spec.sections:
        raise Invalid("sections", "a form needs at least one section", why="form_without_sections")
    for s, section in enumerate(spec.sections):
        prefix = f"sections[{s}]"
        # Named as the builder numbers its rows (from 1): the message sits above the whole form.
        row = {"section": s + 1}
        if not section.title.strip():
            raise Invalid(f"{prefix}.title", "a section needs a title", why="section_title_missing", values=row)
        if len(section.title) > 200:
            raise Invalid(f"{prefix}.title", "at most 200 characters", why="section_title_too_long", values=row)
        if not section.questions:
            raise Invalid(
                f"{prefix}.questions",
                "a section needs at least one question",
                why="section_without_questions",
                values=row,
            )
        for q, question in enumerate(section.questions):
            where, row = f"{prefix}.questions[{q}]", {"section": s + 1, "question": q + 1}
            if not question.text.strip():
                raise Invalid(f"{where}.text", "a question needs its text", why="question_text_missing", values=row)
            if len(question.text) > 500:
                raise Invalid(f"{where}.text", "at most 500 characters", why="question_text_too_long", values=row)
            if not 0 < question.weight <= MAX_WEIGHT:
                raise Invalid(
                    f"{where}.weight",
                    f"Section {s + 1}, question {q + 1}: a weight is above 0 and at most {MAX_WEIGHT:g} (a number)",
                    why="question_weight",
                    values={**row, "max": MAX_WEIGHT},
                )
            if question.answer_type not in VALUES_BY_TYPE:
                raise Invalid(
                    f"{where}.answer_type",
                    f"one of {', '.join(VALUES_BY_TYPE)}",
                    why="question_answer_type",
                    values=row,
                )


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
    # Locked: two edits of one published version at once each found it the latest and both wrote the next version,
    # the later failing on the family's unique version (a 500); the later now waits and is told of the new version.
    form = get_form(session, form_id, lock=True)
    if form.status == FormStatus.DRAFT:
        form.sections.clear()
        session.flush()  # the old rows go before the new ones are inserted
        _fill(form, spec)
    else:
        latest = latest_version(session, form)
        if latest.version != form.version:
            raise Conflict(
                f"version {latest.version} of this form exists; edit that version instead",
                why="later_form_version",
                values={"version": latest.version, "form_id": latest.id},
            )
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
    """Freeze a draft and offer it for evaluations (it supersedes the family's older versions). Locked: the same draft
    published twice at once is published once, the later told it is published already."""
    form = get_form(session, form_id, lock=True)
    if form.status != FormStatus.DRAFT:
        raise Conflict(
            f"version {form.version} of this form is already published",
            why="form_published",
            values={"version": form.version},
        )
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


def get_form(session: Session, form_id: str, *, lock: bool = False) -> EvaluationForm:
    """The form with its questions; with `lock`, read afresh with its row locked until commit (FOR NO KEY UPDATE:
    evaluations being scored on it, whose foreign key takes a key-share lock on it, do not wait)."""
    query = select(EvaluationForm).where(EvaluationForm.id == form_id).options(WITH_QUESTIONS)
    if lock:
        query = query.with_for_update(key_share=True, of=EvaluationForm).execution_options(populate_existing=True)
    form = session.scalar(query)
    if form is None:
        raise NotFound(f"evaluation form {form_id} not found")
    return form


def latest_version(session: Session, form: EvaluationForm) -> EvaluationForm:
    """The highest version (published or draft) of `form`'s family: the one edits start from."""
    latest = session.scalar(
        select(EvaluationForm)
        .where(EvaluationForm.family_id == form.family_id)
        .order_by(EvaluationForm.version.desc())
        .limit(1)
    )
    assert latest is not None  # `form` itself is of the family
    return latest


def list_forms(session: Session) -> list[EvaluationForm]:
    """Every version of every form, grouped by family, newest version first."""
    return list(
        session.scalars(
            select(EvaluationForm).order_by(
                EvaluationForm.name, EvaluationForm.family_id, EvaluationForm.version.desc()
            )
        )
    )


def replaced_by(session: Session, form: EvaluationForm) -> int | None:
    """The version that replaced `form`: its family's highest published one, when higher; None for the newest."""
    newest = session.scalar(
        select(func.max(EvaluationForm.version)).where(
            EvaluationForm.family_id == form.family_id, EvaluationForm.status == FormStatus.PUBLISHED
        )
    )
    return newest if newest is not None and newest > form.version else None


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
        .options(WITH_QUESTIONS)
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
