"""Factories for evaluation tests: an evaluator, a small published form, answers by question order."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.evaluations.forms import FormSpec, QuestionSpec, SectionSpec, create_form, publish_form
from recordings_service.evaluations.scoring import Answer
from recordings_service.models import EvaluationForm, User
from recordings_service.models.account import Role
from recordings_service.models.evaluation import AnswerType
from tests.factories.accounts import make_user

# Three questions: a plain one (weight 1), a heavier scale (weight 2) and a critical one (weight 1).
SMALL_FORM = FormSpec(
    name="Small form",
    sections=(
        SectionSpec("Opening", (QuestionSpec("Greeting", 1.0),)),
        SectionSpec(
            "Deal",
            (
                QuestionSpec("Needs analysis", 2.0, AnswerType.SCALE_1_5),
                QuestionSpec("Correct price", 1.0, critical=True),
            ),
        ),
    ),
)


def actor_of(user: User) -> Actor:
    return Actor(id=user.id, name=user.username, role=user.role)


def make_evaluator(session: Session, role: str = Role.QA_SUPERVISOR) -> Actor:
    return actor_of(make_user(session, role=role))


def published_form(session: Session, actor: Actor, spec: FormSpec = SMALL_FORM) -> EvaluationForm:
    form = create_form(session, actor=actor, spec=spec)
    return publish_form(session, actor=actor, form_id=form.id)


def answers(form: EvaluationForm, values: Sequence[str]) -> dict[str, Answer]:
    """Answers to the form's questions in order: answers(form, ["yes", "4", "no"])."""
    questions = form.questions
    assert len(values) == len(questions), f"the form has {len(questions)} questions"
    return {question.id: Answer(value) for question, value in zip(questions, values, strict=True)}
