"""Found by exploratory testing: a supervisor's draft evaluation (work in progress, listed on /evaluations/ to its
evaluator only) opened whole, answers and comments, at /evaluations/<id> and GET /api/v1/evaluations/<id> for any
other supervisor who could see the call. Another's draft is now 404 there (the attempt audited); the call page
still says a colleague has a draft in progress (evaluator and state, no link), so two do not score it unknowingly."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.evaluations import scoring
from recordings_service.evaluations.scoring import Answer
from recordings_service.models import AuditEvent, Evaluation, EvaluationForm, Recording, User
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.evaluations import actor_of, published_form
from tests.factories.recordings import make_recording
from tests.page_text import visible_text


def evaluations_listed(html: str) -> str:
    """The call page's list of the call's evaluations, as visible text."""
    return visible_text(html).split("Evaluations of this call", 1)[1].split("Comments", 1)[0]


@pytest.fixture
def drafter(session: Session) -> User:
    return make_user(session, role=Role.QA_SUPERVISOR, username="drafter-anna")


@pytest.fixture
def colleague(session: Session) -> User:
    return make_user(session, role=Role.QA_SUPERVISOR, username="colleague-bo")


@pytest.fixture
def form(session: Session, drafter: User) -> EvaluationForm:
    return published_form(session, actor_of(drafter))


@pytest.fixture
def call(session: Session, store: ObjectStore, envelope: Envelope) -> Recording:
    return make_recording(session, store, envelope, agent_ref="agent-draft", queue="billing")


@pytest.fixture
def draft(session: Session, drafter: User, form: EvaluationForm, call: Recording) -> Evaluation:
    greeting = form.questions[0]
    evaluation = scoring.save_draft(
        session,
        actor=actor_of(drafter),
        recording_id=call.id,
        form_id=form.id,
        answers={greeting.id: Answer("no", comment="half-formed thought about the greeting")},
        comment="not sure yet",
    )
    session.commit()
    return evaluation


def test_the_drafter_still_sees_their_own_draft_listed(
    client: FlaskClient, drafter: User, draft: Evaluation, call: Recording
) -> None:
    login(client, drafter)
    html = client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert "drafter-anna" in evaluations_listed(html) and "draft" in evaluations_listed(html)
    assert client.get(f"/evaluations/{draft.id}").status_code == 200
    assert client.get(f"/api/v1/evaluations/{draft.id}").status_code == 200


def test_another_supervisors_draft_cannot_be_opened_and_the_attempt_is_audited(
    client: FlaskClient, session: Session, colleague: User, draft: Evaluation
) -> None:
    login(client, colleague)
    call_page = client.get(f"/calls/{draft.recording_id}").get_data(as_text=True)
    assert "drafter-anna" in evaluations_listed(call_page) and f"/evaluations/{draft.id}" not in call_page
    page = client.get(f"/evaluations/{draft.id}")
    assert page.status_code == 404
    assert "half-formed thought" not in page.get_data(as_text=True)
    api = client.get(f"/api/v1/evaluations/{draft.id}")
    assert api.status_code == 404
    assert api.get_json()["error"] == "not_found"
    assert "not sure yet" not in api.get_data(as_text=True)
    refusals = session.scalars(select(AuditEvent).where(AuditEvent.action == "evaluation.draft_refused")).all()
    assert len(refusals) == 2
    assert {event.object_id for event in refusals} == {draft.id}
    assert {event.actor_id for event in refusals} == {colleague.id}
