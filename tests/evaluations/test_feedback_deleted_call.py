"""Found by review: an agent's feedback page for an evaluation whose call had since been deleted (retention sweep,
erasure) still offered Acknowledge and Dispute, and pressing either answered 404, as did the link to the call.
Nothing new is written about a deleted call (`get_live_recording`), so the page now says the call was deleted and
offers neither form nor link; a page read before the deletion answers its form with that page (409)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.evaluations import feedback
from recordings_service.models import AuditEvent, Evaluation, Recording, User
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import csrf_token, login
from tests.factories.evaluations import (
    actor_of,
    delete_call,
    make_agent_user,
    scored_at_moment,
)
from tests.factories.recordings import make_recording
from tests.page_text import visible_text

AGENT = "agent-deleted-call"
CANNOT_ANSWER = "The call has been deleted, so this evaluation can no longer be acknowledged or disputed."


@pytest.fixture
def call(session: Session, store: ObjectStore, envelope: Envelope) -> Recording:
    return make_recording(session, store, envelope, agent_ref=AGENT, queue="sales")


@pytest.fixture
def evaluation(session: Session, supervisor: User, call: Recording) -> Evaluation:
    """Released to the agent, with the moment of the call each answer rests on."""
    scored = scored_at_moment(session, supervisor, call)
    return feedback.release_evaluation(session, actor=actor_of(supervisor), evaluation_id=scored.id)


@pytest.fixture
def agent_client(client: FlaskClient, session: Session, evaluation: Evaluation) -> FlaskClient:
    login(client, make_agent_user(session, AGENT))
    return client


@pytest.mark.parametrize("reason", ["retention", "erasure"])
def test_the_page_of_a_deleted_calls_evaluation_says_so_and_offers_no_answer(
    agent_client: FlaskClient,
    session: Session,
    store: ObjectStore,
    supervisor: User,
    call: Recording,
    evaluation: Evaluation,
    reason: str,
) -> None:
    page = f"/feedback/{evaluation.id}"
    before = agent_client.get(page).get_data(as_text=True)
    assert f"{page}/acknowledge" in before and f'href="/calls/{call.id}?t=12.0"' in before

    delete_call(session, store, supervisor, call, reason)
    response = agent_client.get(page)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"{page}/acknowledge" not in html and f"{page}/dispute" not in html
    assert f"/calls/{call.id}" not in html  # the call page answers 404 now: no link to it, nor to its moments
    text = visible_text(html)
    assert CANNOT_ANSWER in text and "0:12" in text  # the moment stays, as text
    listed = visible_text(agent_client.get("/feedback/").get_data(as_text=True))
    assert "call deleted" in listed and "not answered yet" not in listed


def test_answering_from_a_page_read_before_the_deletion_shows_the_page_again(
    agent_client: FlaskClient,
    session: Session,
    store: ObjectStore,
    supervisor: User,
    call: Recording,
    evaluation: Evaluation,
) -> None:
    page = f"/feedback/{evaluation.id}"
    token = csrf_token(agent_client, page)
    delete_call(session, store, supervisor, call, "retention")

    for action, comment in (("acknowledge", ""), ("dispute", "I quoted the right price")):
        response = agent_client.post(f"{page}/{action}", data={"comment": comment, "csrf_token": token})
        assert response.status_code == 409
        html = response.get_data(as_text=True)
        assert CANNOT_ANSWER in visible_text(html) and f"{page}/{action}" not in html
    kept = session.get_one(Evaluation, evaluation.id)
    assert (kept.agent_response, kept.agent_comment) == (None, "")


def test_a_dispute_open_when_the_call_was_deleted_is_said_to_stay_unresolved(
    agent_client: FlaskClient,
    session: Session,
    store: ObjectStore,
    supervisor: User,
    call: Recording,
    evaluation: Evaluation,
) -> None:
    page = f"/feedback/{evaluation.id}"
    token = csrf_token(agent_client, page)
    sent = agent_client.post(f"{page}/dispute", data={"comment": "I quoted the right price", "csrf_token": token})
    assert sent.status_code == 302
    delete_call(session, store, supervisor, call, "erasure")

    text = visible_text(agent_client.get(page).get_data(as_text=True))

    assert "You disputed this evaluation." in text and "I quoted the right price" not in text  # blanked
    assert "The call has been deleted, so this dispute can no longer be resolved." in text
    assert "The evaluator has not resolved the dispute yet." not in text
    listed = visible_text(agent_client.get("/feedback/").get_data(as_text=True))
    assert "disputed · call deleted" in listed


def test_another_agents_evaluation_is_still_not_found(
    client: FlaskClient, session: Session, store: ObjectStore, supervisor: User, call: Recording, evaluation: Evaluation
) -> None:
    login(client, make_agent_user(session, "someone-else"))
    token = csrf_token(client, "/feedback/")
    delete_call(session, store, supervisor, call, "retention")

    assert client.get(f"/feedback/{evaluation.id}").status_code == 404
    assert client.post(f"/feedback/{evaluation.id}/acknowledge", data={"csrf_token": token}).status_code == 404
    refusals = select(func.count()).where(
        AuditEvent.action == "evaluation.feedback_refused", AuditEvent.object_id == evaluation.id
    )
    assert session.scalar(refusals) == 2  # each refusal audited once


def test_a_dispute_resolved_before_the_call_was_deleted_says_its_note_went_with_the_call(
    agent_client: FlaskClient,
    session: Session,
    store: ObjectStore,
    supervisor: User,
    call: Recording,
    evaluation: Evaluation,
) -> None:
    """Found after: the resolution note is blanked with the call's other written text, and the page read
    "Resolved: " with nothing after it."""
    agent = actor_of(session.scalars(select(User).where(User.agent_ref == AGENT)).one())  # agent_client's
    feedback.dispute(session, actor=agent, evaluation_id=evaluation.id, comment="I quoted the right price")
    feedback.resolve_dispute(session, actor=actor_of(supervisor), evaluation_id=evaluation.id, note="Checked: right")
    page = f"/feedback/{evaluation.id}"
    assert "Resolved: Checked: right" in visible_text(agent_client.get(page).get_data(as_text=True))

    delete_call(session, store, supervisor, call, "retention")
    text = visible_text(agent_client.get(page).get_data(as_text=True))

    assert "The dispute was resolved; its note was deleted with the call." in text
    assert "Resolved:" not in text and "Checked: right" not in text
