"""The evaluations API: create (draft or submitted), update (versions), release, acknowledge, dispute, resolve;
forms (read) and annotations; each in the OpenAPI document."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import AuditEvent, Recording
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of, evaluation_token, published_form
from tests.factories.recordings import make_recording


def answers_json(form_questions: list[Any], values: list[str], **extra: Any) -> list[dict[str, Any]]:
    return [{"question_id": q.id, "value": v, **extra} for q, v in zip(form_questions, values, strict=True)]


def test_score_release_dispute_and_resolve_through_the_api(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    agent = make_user(session, role=Role.AGENT)
    agent.agent_ref = "agent-api"
    form = published_form(session, actor_of(supervisor))
    call: Recording = make_recording(session, store, envelope, agent_ref="agent-api", queue="sales")
    qa, me = evaluation_token(session, supervisor), evaluation_token(session, agent)
    questions = form.questions

    listed = client.get("/api/v1/forms", headers=qa)
    assert listed.status_code == 200
    (described,) = listed.get_json()["items"]
    assert [q["id"] for s in described["sections"] for q in s["questions"]] == [q.id for q in questions]
    assert client.get(f"/api/v1/forms/{form.id}", headers=qa).get_json()["version"] == 1

    body = {"recording_id": call.id, "form_id": form.id, "answers": answers_json(questions[:1], ["yes"], at_s=2.5)}
    draft = client.post("/api/v1/evaluations", json=body, headers=qa)
    assert draft.status_code == 201, draft.get_json()
    created = draft.get_json()
    assert (created["state"], created["version"], created["score"]) == ("draft", 0, None)
    assert created["answers"] == [{"question_id": questions[0].id, "value": "yes", "comment": "", "at_s": 2.5}]
    again = client.post("/api/v1/evaluations", json=body, headers=qa)
    assert again.status_code == 409 and created["id"] in again.get_json()["message"]

    path = f"/api/v1/evaluations/{created['id']}"
    # Found by exploratory testing: evidence at 1e308 s of a short call was kept (a comment there is refused).
    beyond = answers_json(questions[:1], ["yes"], at_s=call.duration_s + 60)
    late = client.put(path, json={"answers": beyond}, headers=qa)
    assert late.status_code == 422 and late.get_json()["field"] == f"at.{questions[0].id}", late.get_json()
    late = client.put(
        path, json={"answers": beyond + answers_json(questions[1:], ["5", "no"]), "submit": True}, headers=qa
    )
    assert late.status_code == 422 and late.get_json()["field"] == f"at.{questions[0].id}", late.get_json()
    # Found by exploratory testing: a question answered twice kept the last answer silently.
    twice = answers_json([questions[0], questions[0]], ["no", "yes"])
    duplicate = client.put(path, json={"answers": twice}, headers=qa)
    assert duplicate.status_code == 422 and duplicate.get_json()["field"] == f"answers.{questions[0].id}"
    incomplete = client.put(path, json={"answers": answers_json(questions[:1], ["yes"]), "submit": True}, headers=qa)
    assert incomplete.status_code == 422 and incomplete.get_json()["field"] == f"answers.{questions[1].id}"
    submitted = client.put(
        path, json={"answers": answers_json(questions, ["yes", "5", "no"]), "submit": True}, headers=qa
    )
    assert submitted.status_code == 200
    assert (submitted.get_json()["version"], submitted.get_json()["score"]) == (1, 0.0)

    assert client.post(f"{path}/acknowledge", json={}, headers=me).status_code == 404  # not released yet
    released = client.post(f"{path}/release", headers=qa)
    assert released.status_code == 200 and released.get_json()["released_at"]
    assert client.post(f"{path}/release", headers=qa).status_code == 409
    assert client.post(f"{path}/dispute", json={"comment": ""}, headers=me).status_code == 422
    disputed = client.post(f"{path}/dispute", json={"comment": "The price was right"}, headers=me)
    assert disputed.status_code == 200
    assert (disputed.get_json()["agent_response"], disputed.get_json()["dispute_state"]) == ("disputed", "open")
    assert client.post(f"{path}/release", headers=me).status_code == 403  # agents do not release

    # Found by exploratory testing: a comment sent without answers was dropped, and the dispute resolved anyway.
    commented = client.post(f"{path}/resolve", json={"note": "ok", "comment": "A new overall comment"}, headers=qa)
    assert commented.status_code == 422 and commented.get_json()["field"] == "comment", commented.get_json()
    assert client.get(path, headers=qa).get_json()["dispute_state"] == "open"
    resolved = client.post(
        f"{path}/resolve",
        json={"note": "Agreed, re-scored", "answers": answers_json(questions, ["yes", "5", "yes"])},
        headers=qa,
    )
    assert resolved.status_code == 200, resolved.get_json()
    final = resolved.get_json()
    assert (final["dispute_state"], final["version"], final["score"], final["resolution_note"]) == (
        "resolved",
        2,
        100.0,
        "Agreed, re-scored",
    )
    assert client.get(path, headers=qa).get_json()["score"] == 100.0
    trail = session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_id == call.id).order_by(AuditEvent.seq)
    ).all()
    assert [a for a in trail if a.startswith("evaluation.")] == [
        "evaluation.created",
        "evaluation.released",
        "evaluation.disputed",
        "evaluation.revised",
        "evaluation.dispute_resolved",
    ]


def test_annotations_through_the_api(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    call = make_recording(session, store, envelope)
    qa = evaluation_token(session, supervisor)
    path = f"/api/v1/recordings/{call.id}/annotations"
    assert client.get(path, headers=qa).get_json() == {"items": []}
    created = client.post(path, json={"at_s": 1.25, "text": "Price quoted here"}, headers=qa)
    assert created.status_code == 201
    assert (created.get_json()["author"], created.get_json()["at_s"]) == (supervisor.username, 1.25)
    assert client.post(path, json={"at_s": 1.0, "text": ""}, headers=qa).status_code == 422
    assert [n["text"] for n in client.get(path, headers=qa).get_json()["items"]] == ["Price quoted here"]
    restricted = make_recording(session, store, envelope, restricted=True)
    assert client.get(f"/api/v1/recordings/{restricted.id}/annotations", headers=qa).status_code == 404


def test_the_evaluations_api_is_documented(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    operations = {
        op["operationId"]: (method, path) for path, ops in spec["paths"].items() for method, op in ops.items()
    }
    assert operations["evaluations_api.create_evaluation"] == ("post", "/api/v1/evaluations")
    assert operations["evaluations_api.update_evaluation"] == ("put", "/api/v1/evaluations/{evaluation_id}")
    for name in ("release", "acknowledge", "dispute", "resolve"):
        assert operations[f"evaluations_api.{name}_evaluation"] == (
            "post",
            f"/api/v1/evaluations/{{evaluation_id}}/{name}",
        )
    assert operations["evaluations_api.list_forms"] == ("get", "/api/v1/forms")
    assert operations["evaluations_api.create_annotation"] == ("post", "/api/v1/recordings/{recording_id}/annotations")
