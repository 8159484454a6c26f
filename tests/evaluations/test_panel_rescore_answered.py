"""Found by exploratory testing: the call page's panel re-scores through `evaluate_call`, which skipped what
`update_evaluation` (the API's PUT) enforces. With the agent's dispute open, submitting the panel made version 2
("Evaluation saved: 50.0 / 100") and left the dispute open on a score the agent never saw; the API refused the
same with 409, and the README says resolving is the way to re-score then. And re-scoring an acknowledged
evaluation there kept "acknowledged" for a version the agent was never shown. The panel now refuses the first
(nothing changes) and puts the second back before the agent, as the API does."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.errors import Conflict
from recordings_service.evaluations import feedback, scoring
from recordings_service.models import Evaluation, EvaluationForm, Recording, User
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, make_user, post_form
from tests.factories.evaluations import actor_of, answers, make_agent_user, released
from tests.factories.recordings import make_recording
from tests.page_text import visible_text


@pytest.fixture
def supervisor(session: Session) -> User:
    return make_user(session)


@pytest.fixture
def agent(session: Session) -> User:
    return make_agent_user(session, "agent-panel")


@pytest.fixture
def call(session: Session, store: ObjectStore, envelope: Envelope) -> Recording:
    return make_recording(session, store, envelope, agent_ref="agent-panel")


def panel_fields(form: EvaluationForm, values: list[str]) -> dict[str, str]:
    return {"form_id": form.id} | {f"answers.{q.id}": v for q, v in zip(form.questions, values, strict=True)}


def test_the_panel_does_not_re_score_an_evaluation_the_agent_disputes(
    client: FlaskClient, session: Session, supervisor: User, agent: User, form: EvaluationForm, call: Recording
) -> None:
    evaluation = released(session, supervisor, form, call, ["yes", "3", "yes"])
    feedback.dispute(session, actor=actor_of(agent), evaluation_id=evaluation.id, comment="I asked about usage")
    session.commit()
    login(client, supervisor)
    path = f"/calls/{call.id}"

    refused = post_form(client, f"{path}/evaluation", panel_fields(form, ["no", "3", "yes"]), token_from=path)

    assert refused.status_code == 302
    shown = visible_text(client.get(refused.headers["Location"]).get_data(as_text=True))
    assert "the agent disputes this evaluation" in shown and "Evaluation saved" not in shown
    session.expire_all()
    kept = session.get_one(Evaluation, evaluation.id)
    assert (kept.version, kept.score, kept.dispute_state) == (1, 75.0, "open")


def test_the_panel_puts_a_re_scored_acknowledged_evaluation_back_before_the_agent(
    client: FlaskClient, session: Session, supervisor: User, agent: User, form: EvaluationForm, call: Recording
) -> None:
    evaluation = released(session, supervisor, form, call, ["yes", "5", "yes"])
    feedback.acknowledge(session, actor=actor_of(agent), evaluation_id=evaluation.id, comment="ok thanks")
    session.commit()
    login(client, supervisor)
    path = f"/calls/{call.id}"

    saved = post_form(client, f"{path}/evaluation", panel_fields(form, ["yes", "5", "no"]), token_from=path)

    assert saved.status_code == 302
    session.expire_all()
    revised = session.get_one(Evaluation, evaluation.id)
    assert (revised.version, revised.score, revised.agent_response, revised.agent_comment) == (2, 0.0, None, "")


def test_evaluate_call_refuses_a_re_score_while_a_dispute_is_open(
    session: Session, supervisor: User, agent: User, form: EvaluationForm, call: Recording
) -> None:
    evaluation = released(session, supervisor, form, call, ["yes", "3", "yes"])
    feedback.dispute(session, actor=actor_of(agent), evaluation_id=evaluation.id, comment="I asked about usage")
    with pytest.raises(Conflict):
        scoring.evaluate_call(
            session,
            actor=actor_of(supervisor),
            recording_id=call.id,
            form_id=form.id,
            answers=answers(form, ["no", "3", "yes"]),
        )
