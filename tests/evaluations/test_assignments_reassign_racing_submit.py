"""A lead's reassignment and the assignee's submit of the call's evaluation at the same moment go one after the other.

Found by review: the reassign read the assignment as open while the submit was not yet committed, and moved it on,
so the new supervisor's list showed open a call its first supervisor had evaluated (or, read the other way, the
evaluation landed on an assignment just handed on). Both now take the assignment's row lock (the submit before it
writes its evaluation and its audit event, the reassign before it reads the assignment as open): a reassign after
the submit is refused as done; a submit after the reassign saves the evaluation, the supervisor's own, and the
assignment stays open with the new assignee. PostgreSQL only: SQLite has one writer at a time."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from recordings_service.errors import Conflict
from recordings_service.evaluations import assignments, handover, scoring
from recordings_service.models import Assignment, Evaluation, EvaluationForm, User
from recordings_service.models.evaluation import EvaluationState
from recordings_service.runtime import SESSION_ENVELOPE
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of, answers, published_form
from tests.factories.postgres_races import private_engine, wait_until_blocked
from tests.factories.recordings import make_recording

pytestmark = pytest.mark.postgres


@dataclass(frozen=True)
class Scene:
    sessions: sessionmaker[Session]
    lead_id: str
    holder_id: str
    stand_in_id: str
    recording_id: str
    assignment_id: str
    form_id: str


@pytest.fixture
def scene(store: ObjectStore, envelope: Envelope) -> Iterator[tuple[Engine, Scene]]:
    with private_engine("t_reassign_submit_") as engine:
        sessions: sessionmaker[Session] = sessionmaker(
            engine, expire_on_commit=False, info={SESSION_ENVELOPE: envelope}
        )
        with sessions() as session:
            lead, holder, stand_in = make_user(session), make_user(session), make_user(session)
            call = make_recording(session, store, envelope)
            form = published_form(session, actor_of(lead))
            [held] = assignments.assign_calls(
                session, actor=actor_of(lead), recording_ids=[call.id], assignee_id=holder.id, today=date.today()
            ).assignments
            session.commit()
        yield engine, Scene(sessions, lead.id, holder.id, stand_in.id, call.id, held.id, form.id)


def _submit(scene: Scene, session: Session) -> Evaluation:
    """The assignee submits the call's evaluation (its first version)."""
    holder = actor_of(session.get_one(User, scene.holder_id))
    form = session.get_one(EvaluationForm, scene.form_id)
    return scoring.evaluate_call(
        session,
        actor=holder,
        recording_id=scene.recording_id,
        form_id=form.id,
        answers=answers(form, ["yes", "4", "yes"]),
    )


def _submit_and_read_handover(scene: Scene, session: Session) -> str | None:
    """The assignee submits, then reads who holds the assignment now if it was handed on (what the saved message
    tells them: test_assignments_handed_on_submit.py)."""
    _submit(scene, session)
    taker = handover.handed_on_from(session, recording_id=scene.recording_id, evaluator_id=scene.holder_id)
    return taker.id if taker else None


def _reassign(scene: Scene, session: Session) -> Assignment:
    """The lead hands the assignment to the stand-in."""
    lead = actor_of(session.get_one(User, scene.lead_id))
    return assignments.reassign(
        session, actor=lead, assignment_id=scene.assignment_id, assignee_id=scene.stand_in_id, today=date.today()
    )


def _second(scene: Scene, step: Callable[[Scene, Session], Any], outcome: dict[str, Any]) -> threading.Thread:
    """`step` in a session of its own, started on another thread; its backend id, and what came of it, in `outcome`."""

    def run() -> None:
        with scene.sessions() as session:
            outcome["pid"] = session.execute(text("SELECT pg_backend_pid()")).scalar()
            try:
                outcome["result"] = step(scene, session)
            except Conflict as exc:
                outcome["refused"] = exc.why
                return
            session.commit()
            outcome["done"] = True

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _open_on_lists(scene: Scene) -> dict[str, list[str]]:
    """Each supervisor's open assignments, as their list shows them."""
    with scene.sessions() as session:
        return {
            user_id: [
                view.assignment.id
                for view in assignments.list_assignments(
                    session, actor=actor_of(session.get_one(User, user_id)), today=date.today(), assignee_id=user_id
                )
            ]
            for user_id in (scene.holder_id, scene.stand_in_id)
        }


def test_a_reassign_while_the_assignee_submits_waits_and_is_refused_as_done(scene: tuple[Engine, Scene]) -> None:
    engine, race = scene
    submitting = race.sessions()
    _submit(race, submitting)
    outcome: dict[str, Any] = {}

    thread = _second(race, _reassign, outcome)
    wait_until_blocked(engine, thread, outcome, what="the reassign")
    submitting.commit()
    submitting.close()
    thread.join(timeout=20)

    assert outcome.get("refused") == "assignment_done"
    with race.sessions() as session:
        assert session.get_one(Assignment, race.assignment_id).assignee_id == race.holder_id
    assert _open_on_lists(race) == {race.holder_id: [], race.stand_in_id: []}


def test_a_submit_while_the_lead_reassigns_waits_and_leaves_the_assignment_with_the_new_assignee(
    scene: tuple[Engine, Scene],
) -> None:
    engine, race = scene
    reassigning = race.sessions()
    _reassign(race, reassigning)
    outcome: dict[str, Any] = {}

    thread = _second(race, _submit_and_read_handover, outcome)
    wait_until_blocked(engine, thread, outcome, what="the submit")
    reassigning.commit()
    reassigning.close()
    thread.join(timeout=20)

    assert outcome.get("done") is True  # an evaluation of the call is the supervisor's own: it is kept
    assert outcome["result"] == race.stand_in_id  # and the submit that waited reads whom it was handed on to
    with race.sessions() as session:
        evaluation = session.scalars(select(Evaluation).where(Evaluation.recording_id == race.recording_id)).one()
        assert (evaluation.evaluator_id, evaluation.state) == (race.holder_id, EvaluationState.SUBMITTED)
        assert session.get_one(Assignment, race.assignment_id).assignee_id == race.stand_in_id
    assert _open_on_lists(race) == {race.holder_id: [], race.stand_in_id: [race.assignment_id]}
