"""The evaluations API on an evaluation whose call was deleted since (retention, erasure): releasing, re-scoring,
acknowledging, disputing and resolving answered 404 "recording … not found", as if the evaluation an integrator had
just read did not exist, while the pages said the call was deleted (409). Each now answers 409 `conflict` saying
the call has been deleted, and changes nothing; an evaluation of a call the caller may not see is still not found."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.evaluations import feedback
from recordings_service.models import Evaluation, Recording, User
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of, delete_call, evaluation_token, make_agent_user, scored_at_moment
from tests.factories.recordings import make_recording

AGENT = "agent-api-deleted-call"


def test_every_change_to_a_deleted_calls_evaluation_answers_409_saying_so(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    agent = make_agent_user(session, AGENT)
    calls = [make_recording(session, store, envelope, agent_ref=AGENT, queue="sales") for _ in range(2)]
    unreleased = scored_at_moment(session, supervisor, calls[0])
    released = scored_at_moment(session, supervisor, calls[1])
    feedback.release_evaluation(session, actor=actor_of(supervisor), evaluation_id=released.id)
    disputed = scored_at_moment(session, make_user(session, role=Role.QA_SUPERVISOR), calls[1])
    feedback.release_evaluation(
        session, actor=actor_of(session.get_one(User, disputed.evaluator_id)), evaluation_id=disputed.id
    )
    feedback.dispute(session, actor=actor_of(agent), evaluation_id=disputed.id, comment="the price was right")
    for call in calls:
        delete_call(session, store, supervisor, call, "retention")
    session.commit()
    qa, me = evaluation_token(session, supervisor), evaluation_token(session, agent)
    its_evaluator = evaluation_token(session, session.get_one(User, disputed.evaluator_id))

    attempts = [
        ("post", f"/api/v1/evaluations/{unreleased.id}/release", qa, None),
        ("put", f"/api/v1/evaluations/{unreleased.id}", qa, {"comment": "listened again"}),
        ("post", f"/api/v1/evaluations/{released.id}/acknowledge", me, {}),
        ("post", f"/api/v1/evaluations/{released.id}/dispute", me, {"comment": "I said the right price"}),
        ("post", f"/api/v1/evaluations/{disputed.id}/resolve", its_evaluator, {"note": "kept"}),
    ]
    for method, path, headers, body in attempts:
        answer = getattr(client, method)(path, json=body, headers=headers)
        assert answer.status_code == 409, (path, answer.get_json())
        said = answer.get_json()
        assert said["error"] == "conflict" and "has been deleted" in said["message"], path

    session.expire_all()
    assert session.get_one(Evaluation, unreleased.id).released_at is None
    assert session.get_one(Evaluation, released.id).agent_response is None
    assert session.get_one(Evaluation, disputed.id).dispute_state == "open"
    # Reading it still works: its scores stay for the trends.
    assert client.get(f"/api/v1/evaluations/{unreleased.id}", headers=qa).status_code == 200


def test_an_evaluation_of_a_deleted_call_hidden_from_the_caller_is_still_not_found(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    call: Recording = make_recording(session, store, envelope, agent_ref=AGENT, queue="sales")
    evaluation = scored_at_moment(session, supervisor, call)
    delete_call(session, store, supervisor, call, "erasure")
    session.get_one(Recording, call.id).restricted = True  # GDPR Art. 18: compliance's only
    session.commit()

    answer = client.post(f"/api/v1/evaluations/{evaluation.id}/release", headers=evaluation_token(session, supervisor))
    assert answer.status_code == 404 and "deleted" not in answer.get_json()["message"]
