"""Factories for evaluation tests: an evaluator, a small published form, answers by question order."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service import tokens
from recordings_service.audit import Actor
from recordings_service.db import utcnow
from recordings_service.evaluations import feedback, scoring
from recordings_service.evaluations.default_form import DEFAULT_FORM, seed_default_form
from recordings_service.evaluations.forms import FormSpec, QuestionSpec, SectionSpec, create_form, publish_form
from recordings_service.evaluations.scoring import Answer
from recordings_service.models import Evaluation, EvaluationAnswer, EvaluationForm, Recording, User
from recordings_service.models.account import Role
from recordings_service.models.evaluation import AnswerType, EvaluationState
from recordings_service.privacy.deletion import delete_recording
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore, S3ObjectStore
from tests.factories.accounts import SYSTEM, make_user
from tests.factories.recordings import make_recording

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


def seeded_form(session: Session) -> EvaluationForm:
    seed_default_form(session, actor=SYSTEM)
    return session.scalars(select(EvaluationForm).where(EvaluationForm.name == DEFAULT_FORM.name)).first()  # type: ignore[return-value]


def scored(
    session: Session,
    store: S3ObjectStore,
    envelope: Envelope,
    *,
    form: EvaluationForm,
    evaluator: User,
    agent_ref: str,
    queue: str,
    value: str,
    critical_failed: bool = False,
    score: float = 80.0,
    state: str = EvaluationState.SUBMITTED,
) -> Evaluation:
    """A submitted evaluation on the seeded form: every yes/no question answered `value`, scales 4."""
    call = make_recording(session, store, envelope, audio=b"RIFF", agent_ref=agent_ref, queue=queue)
    evaluation = Evaluation(
        recording_id=call.id,
        form_id=form.id,
        evaluator_id=evaluator.id,
        agent_ref=agent_ref,
        queue=queue,
        score=score,
        critical_failed=critical_failed,
        state=state,
        submitted_at=utcnow() if state == EvaluationState.SUBMITTED else None,
    )
    session.add(evaluation)
    session.flush()
    for question in form.questions:
        answer = "4" if question.answer_type == "scale_1_5" else value
        session.add(EvaluationAnswer(evaluation_id=evaluation.id, question_id=question.id, value=answer))
    session.flush()
    return evaluation


def evaluation_token(session: Session, user: User) -> dict[str, str]:
    """The headers of a request made with an `evaluation` token of `user` (an evaluator's, or an agent's own)."""
    _, plain = tokens.create_token(session, actor=SYSTEM, user=user, scope="evaluation")
    return {"Authorization": f"Bearer {plain}"}


def make_agent_user(session: Session, agent_ref: str) -> User:
    """An agent's account, tied to the calls of `agent_ref`."""
    user = make_user(session, role=Role.AGENT)
    user.agent_ref = agent_ref
    session.flush()
    return user


def released(
    session: Session, supervisor: User, form: EvaluationForm, recording: Recording, values: list[str]
) -> Evaluation:
    """`supervisor`'s evaluation of `recording` answered `values`, released to the call's agent."""
    actor = actor_of(supervisor)
    evaluation = scoring.evaluate_call(
        session, actor=actor, recording_id=recording.id, form_id=form.id, answers=answers(form, values)
    )
    return feedback.release_evaluation(session, actor=actor, evaluation_id=evaluation.id)


def scored_at_moment(session: Session, supervisor: User, call: Recording, *, at_s: float = 12.0) -> Evaluation:
    """Submitted (not released), each answer resting on the moment `at_s` of the call."""
    actor = actor_of(supervisor)
    form = published_form(session, actor)
    given = {qid: Answer(a.value, at_s=at_s) for qid, a in answers(form, ["yes", "5", "no"]).items()}
    return scoring.evaluate_call(session, actor=actor, recording_id=call.id, form_id=form.id, answers=given)


def delete_call(session: Session, store: ObjectStore, supervisor: User, call: Recording, reason: str) -> None:
    """Delete the call as the sweep or an erasure does, reading what the pages' requests wrote since."""
    session.expire_all()
    delete_recording(session, store, recording_id=call.id, reason=reason, actor=actor_of(supervisor))
    session.expire_all()


def scored_call(
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    *,
    evaluator: User,
    form: EvaluationForm,
    queue: str,
    agent_ref: str,
    submit: bool = True,
) -> Evaluation:
    """A new call of `agent_ref` in `queue` scored by `evaluator` on `form` (`SMALL_FORM`'s questions) as the API
    scores one: submitted, or a draft."""
    call = make_recording(session, store, envelope, audio=b"RIFF", agent_ref=agent_ref, queue=queue)
    return scoring.create_evaluation(
        session,
        actor=actor_of(evaluator),
        recording_id=call.id,
        form_id=form.id,
        answers=answers(form, ["yes", "4", "yes"]),
        comment="",
        submit=submit,
    )
