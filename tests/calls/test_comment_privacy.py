"""Found by exploratory testing: an agent opening the call of an evaluation released to them read every comment the
QA supervisors had left on the call (their working notes, with authors and moments), which the comments API
refuses agents (403). The call page now shows comments, and their marks on the waveform, to those who may read
evaluations, as the API does; a trainer saw the marks (author and moment) too, and no longer does."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.calls import review
from recordings_service.models import Evaluation, Recording, User
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.evaluations import actor_of, make_agent_user, published_form, released
from tests.factories.recordings import make_recording

NOTE = "Coach on the price wording; HR is looking at this one"


@pytest.fixture
def supervisor(session: Session) -> User:
    return make_user(session, role=Role.QA_SUPERVISOR, username="reviewer-cleo")


@pytest.fixture
def call(session: Session, store: ObjectStore, envelope: Envelope) -> Recording:
    return make_recording(session, store, envelope, agent_ref="agent-comments", queue="billing")


@pytest.fixture
def evaluation(session: Session, supervisor: User, call: Recording) -> Evaluation:
    form = published_form(session, actor_of(supervisor))
    review.add_annotation(session, actor=actor_of(supervisor), recording_id=call.id, at_s=1.5, text=NOTE)
    evaluation = released(session, supervisor, form, call, ["yes", "4", "yes"])
    session.commit()
    return evaluation


def test_the_agent_of_a_released_evaluation_does_not_read_the_reviewers_comments(
    client: FlaskClient, session: Session, evaluation: Evaluation, call: Recording
) -> None:
    login(client, make_agent_user(session, "agent-comments"))
    page = client.get(f"/calls/{call.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "transcript" in html  # the call itself is theirs to hear and read
    assert NOTE not in html
    assert 'class="mark"' not in html and "reviewer-cleo" not in html.split('class="marks"', 1)[1][:400]
    assert 'id="comments"' not in html
    assert client.get(f"/api/v1/recordings/{call.id}/annotations").status_code == 403


def test_a_trainer_sees_no_comment_marks(
    client: FlaskClient, session: Session, evaluation: Evaluation, call: Recording
) -> None:
    login(client, make_user(session, role=Role.TRAINER))
    html = client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert 'class="mark"' not in html and NOTE not in html


def test_the_supervisor_still_reads_and_marks_the_comments(
    client: FlaskClient, supervisor: User, evaluation: Evaluation, call: Recording
) -> None:
    login(client, supervisor)
    html = client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert NOTE in html and 'id="comments"' in html
    assert 'class="mark" data-seek="1.5"' in html
