"""The same evaluation submitted twice at once (two tabs, a double click, a submit racing the panel's autosave):
found by an exploratory pass on PostgreSQL. Both requests read the evaluator's draft unlocked and both submitted it
as version 1: the first score was overwritten without a version of its own, and the trail held two
`evaluation.created`. Two API creates at once both answered 201, the later silently a revision. The evaluation is
now read afresh under its row lock: the later submit is a re-score of the earlier (a version kept), and the later
create is refused as one after the other is."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from recordings_service.audit import Actor
from recordings_service.errors import Conflict
from recordings_service.evaluations.scoring import create_evaluation, evaluate_call, save_draft
from recordings_service.models import AuditEvent, Evaluation, EvaluationForm, EvaluationVersion
from recordings_service.runtime import SESSION_ENVELOPE
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.evaluations import answers, make_evaluator, published_form
from tests.factories.own_database import second_waits_for_first
from tests.factories.recordings import make_recording


def setting(engine: Engine, store: ObjectStore, envelope: Envelope) -> tuple[sessionmaker[Session], Actor, str, str]:
    sessions = sessionmaker(engine, expire_on_commit=False, info={SESSION_ENVELOPE: envelope})
    with sessions() as setup:
        evaluator = make_evaluator(setup)
        form = published_form(setup, evaluator)
        call = make_recording(setup, store, envelope)
        setup.commit()
    return sessions, evaluator, call.id, form.id


def submitting(evaluator: Actor, call_id: str, form_id: str, values: list[str]) -> Callable[[Session], object]:
    def submit(session: Session) -> object:
        form = session.get_one(EvaluationForm, form_id)
        given = answers(form, values)
        return evaluate_call(session, actor=evaluator, recording_id=call_id, form_id=form_id, answers=given)

    return submit


def test_a_draft_submitted_twice_at_once_keeps_the_first_score_as_a_version(
    own_engine: Engine, store: ObjectStore, envelope: Envelope
) -> None:
    sessions, evaluator, call_id, form_id = setting(own_engine, store, envelope)
    with sessions() as session:  # the panel's autosave made the draft
        save_draft(session, actor=evaluator, recording_id=call_id, form_id=form_id, answers={})
        session.commit()

    second_waits_for_first(
        sessions,
        submitting(evaluator, call_id, form_id, ["yes", "5", "yes"]),
        submitting(evaluator, call_id, form_id, ["no", "1", "no"]),
    )

    with sessions() as session:
        evaluation = session.scalars(select(Evaluation).where(Evaluation.recording_id == call_id)).one()
        kept = session.scalars(select(EvaluationVersion).where(EvaluationVersion.evaluation_id == evaluation.id)).all()
        assert evaluation.version == 2 and [version.version for version in kept] == [1]
        assert kept[0].score is not None and kept[0].score > (evaluation.score or 0)  # the first, better score kept
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_id == call_id).order_by(AuditEvent.seq)
        ).all()
        assert [action for action in actions if action.startswith("evaluation.")] == [
            "evaluation.created",
            "evaluation.revised",
        ]


def test_two_creates_at_once_make_one_evaluation_and_refuse_the_later(
    own_engine: Engine, store: ObjectStore, envelope: Envelope
) -> None:
    sessions, evaluator, call_id, form_id = setting(own_engine, store, envelope)

    def create(session: Session) -> object:
        given = answers(session.get_one(EvaluationForm, form_id), ["yes", "4", "yes"])
        return create_evaluation(
            session, actor=evaluator, recording_id=call_id, form_id=form_id, answers=given, comment="", submit=True
        )

    outcome = second_waits_for_first(sessions, create, create)

    assert isinstance(outcome, Conflict) and "you already evaluated this call" in outcome.message, outcome
    with sessions() as session:
        [evaluation] = session.scalars(select(Evaluation).where(Evaluation.recording_id == call_id)).all()
        assert evaluation.version == 1
