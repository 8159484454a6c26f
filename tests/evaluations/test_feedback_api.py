"""An agent's evaluation token read nothing: `GET /evaluations/<id>` is the evaluators' (403 to an agent), yet
acknowledging or disputing answered with the whole evaluation, so an integration had to answer one to read it.
`GET /api/v1/feedback` and `/feedback/<id>` give the agent what *My feedback* shows: the evaluations released to it."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.evaluations import scoring
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of, answers, evaluation_token, make_agent_user, published_form, released
from tests.factories.recordings import make_recording


def test_an_agent_reads_the_evaluations_released_to_it_and_no_other(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    agent = make_agent_user(session, "agent-feedback")
    make_agent_user(session, "agent-other")
    form = published_form(session, actor_of(supervisor))
    first, second, third = (make_recording(session, store, envelope, agent_ref="agent-feedback") for _ in range(3))
    older = released(session, supervisor, form, first, ["yes", "5", "no"])
    newer = released(session, supervisor, form, second, ["yes", "5", "yes"])
    unreleased = scoring.evaluate_call(
        session,
        actor=actor_of(supervisor),
        recording_id=third.id,
        form_id=form.id,
        answers=answers(form, ["no", "1", "no"]),
    )
    theirs = released(
        session, supervisor, form, make_recording(session, store, envelope, agent_ref="agent-other"), ["no", "1", "no"]
    )
    me, qa = evaluation_token(session, agent), evaluation_token(session, supervisor)
    session.commit()

    listed = client.get("/api/v1/feedback", headers=me)
    assert listed.status_code == 200
    assert [item["id"] for item in listed.get_json()["items"]] == [newer.id, older.id]
    one = client.get(f"/api/v1/feedback/{older.id}", headers=me)
    assert one.status_code == 200
    assert one.get_json() == client.get(f"/api/v1/evaluations/{older.id}", headers=qa).get_json()
    for hidden in (unreleased.id, theirs.id, "01J0000000000000000000000Z"):
        assert client.get(f"/api/v1/feedback/{hidden}", headers=me).status_code == 404
    assert client.get(f"/api/v1/evaluations/{older.id}", headers=me).status_code == 403  # the evaluators' read
    assert client.get("/api/v1/feedback", headers=qa).status_code == 403  # an evaluator has no feedback of its own
    answered = client.post(f"/api/v1/evaluations/{older.id}/acknowledge", json={}, headers=me).get_json()
    assert client.get(f"/api/v1/feedback/{older.id}", headers=me).get_json() == answered
