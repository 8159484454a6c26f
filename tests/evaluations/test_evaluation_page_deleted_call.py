"""Found by review: the evaluator's page of an evaluation whose call had since been deleted (retention sweep, erasure)
still linked the call and its evidence moments and offered "Release to the agent" and "Resolve the dispute", all of
which answered 404: nothing new is written about a deleted call (`evaluation_to_change` → `get_live_recording`).
The page now says the call was deleted and offers neither link nor form; a form posted from a page read before the
deletion answers with that page (409)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.evaluations import feedback, scoring
from recordings_service.models import AuditEvent, Evaluation, Recording, User
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import csrf_token, login
from tests.factories.evaluations import (
    actor_of,
    answers,
    delete_call,
    make_agent_user,
    published_form,
    scored_at_moment,
)
from tests.factories.recordings import make_recording
from tests.page_text import visible_text

AGENT = "agent-evaluator-page-deleted"
NO_RELEASE = "The call has been deleted, so this evaluation can no longer be released to the agent."
NO_RESOLUTION = "The call has been deleted, so this dispute can no longer be resolved."


@pytest.fixture
def call(session: Session, store: ObjectStore, envelope: Envelope) -> Recording:
    return make_recording(session, store, envelope, agent_ref=AGENT, queue="sales")


@pytest.fixture
def evaluation(session: Session, supervisor: User, call: Recording) -> Evaluation:
    """Submitted, not released yet, with the moment of the call each answer rests on."""
    return scored_at_moment(session, supervisor, call)


@pytest.fixture
def disputed(session: Session, supervisor: User, evaluation: Evaluation) -> Evaluation:
    feedback.release_evaluation(session, actor=actor_of(supervisor), evaluation_id=evaluation.id)
    agent = actor_of(make_agent_user(session, AGENT))
    return feedback.dispute(session, actor=agent, evaluation_id=evaluation.id, comment="I quoted the right price")


@pytest.fixture
def evaluator_client(client: FlaskClient, supervisor: User) -> FlaskClient:
    login(client, supervisor)
    return client


@pytest.mark.parametrize("reason", ["retention", "erasure"])
def test_the_page_of_a_deleted_calls_evaluation_says_so_and_offers_no_release(
    evaluator_client: FlaskClient,
    session: Session,
    store: ObjectStore,
    supervisor: User,
    call: Recording,
    evaluation: Evaluation,
    reason: str,
) -> None:
    page = f"/evaluations/{evaluation.id}"
    before = evaluator_client.get(page).get_data(as_text=True)
    assert f"{page}/release" in before and f'href="/calls/{call.id}?t=12.0"' in before

    delete_call(session, store, supervisor, call, reason)
    response = evaluator_client.get(page)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"{page}/release" not in html
    assert f"/calls/{call.id}" not in html  # the call page answers 404 now: no link to it, nor to its moments
    text = visible_text(html)
    assert NO_RELEASE in text and f"{call.id} (deleted)" in text
    assert "0:12" in text  # the moment stays, as text


def test_a_dispute_open_when_the_call_was_deleted_is_said_to_stay_unresolved(
    evaluator_client: FlaskClient,
    session: Session,
    store: ObjectStore,
    supervisor: User,
    call: Recording,
    disputed: Evaluation,
) -> None:
    page = f"/evaluations/{disputed.id}"
    assert f"{page}/resolve" in evaluator_client.get(page).get_data(as_text=True)

    delete_call(session, store, supervisor, call, "erasure")
    html = evaluator_client.get(page).get_data(as_text=True)

    assert f"{page}/resolve" not in html and "Resolve the dispute" not in html
    text = visible_text(html)
    assert NO_RESOLUTION in text and "I quoted the right price" not in text  # blanked by the deletion


def test_a_form_posted_from_a_page_read_before_the_deletion_shows_the_page_again(
    evaluator_client: FlaskClient,
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    supervisor: User,
    call: Recording,
    disputed: Evaluation,
) -> None:
    second = make_recording(session, store, envelope, agent_ref=AGENT, queue="sales")
    unreleased = scoring.evaluate_call(
        session,
        actor=actor_of(supervisor),
        recording_id=second.id,
        form_id=disputed.form_id,
        answers=answers(disputed.form, ["yes", "5", "yes"]),
    )
    token = csrf_token(evaluator_client, f"/evaluations/{unreleased.id}")
    for deleted in (call, second):
        delete_call(session, store, supervisor, deleted, "retention")

    posted = [
        (unreleased.id, "release", {}, NO_RELEASE),
        (disputed.id, "resolve", {"note": "Listened again: the price was right"}, NO_RESOLUTION),
    ]
    for evaluation_id, action, data, said in posted:
        page = f"/evaluations/{evaluation_id}"
        response = evaluator_client.post(f"{page}/{action}", data={**data, "csrf_token": token})
        assert response.status_code == 409, action
        html = response.get_data(as_text=True)
        assert said in visible_text(html) and f"{page}/{action}" not in html
    kept = session.get_one(Evaluation, unreleased.id), session.get_one(Evaluation, disputed.id)
    assert (kept[0].released_at, kept[1].dispute_state, kept[1].resolution_note) == (None, "open", "")


def test_a_call_hidden_from_the_evaluator_is_still_not_found_and_the_refusal_audited(
    evaluator_client: FlaskClient,
    session: Session,
    store: ObjectStore,
    supervisor: User,
    call: Recording,
    evaluation: Evaluation,
) -> None:
    token = csrf_token(evaluator_client, f"/evaluations/{evaluation.id}")
    delete_call(session, store, supervisor, call, "erasure")
    session.get_one(Recording, call.id).restricted = True  # GDPR Art. 18: compliance's only
    session.flush()

    assert evaluator_client.get(f"/evaluations/{evaluation.id}").status_code == 404
    released = evaluator_client.post(f"/evaluations/{evaluation.id}/release", data={"csrf_token": token})
    assert released.status_code == 404
    refusals = select(func.count()).where(
        AuditEvent.action == "recording.access_denied", AuditEvent.object_id == call.id
    )
    assert session.scalar(refusals) == 2  # each refusal audited once


def test_the_evaluations_list_and_the_agents_page_link_no_deleted_call(
    evaluator_client: FlaskClient,
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    supervisor: User,
    call: Recording,
    evaluation: Evaluation,
) -> None:
    """The same, found after: both listed the deleted call with an "Open call" link that answered 404."""
    kept = make_recording(session, store, envelope, agent_ref=AGENT, queue="sales")
    actor = actor_of(supervisor)
    form = published_form(session, actor)
    scoring.evaluate_call(
        session, actor=actor, recording_id=kept.id, form_id=form.id, answers=answers(form, ["yes", "5", "no"])
    )
    delete_call(session, store, supervisor, call, "retention")

    for page in ("/evaluations/", f"/agents/{AGENT}"):
        html = evaluator_client.get(page).get_data(as_text=True)
        assert f'href="/calls/{kept.id}"' in html, page
        assert f"/calls/{call.id}" not in html and f"/evaluations/{evaluation.id}" in html, page
