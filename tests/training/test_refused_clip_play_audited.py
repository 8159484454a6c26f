"""A refused play of a clip is in its call's trail, as a refused play of the call itself is. Found by an
exploratory pass: a clip whose call was taken out of training (409), or whose call was deleted (404), was refused
its audio and nothing recorded who asked for it."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models import Customer
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.accounts import make_user
from tests.factories.audit import events
from tests.factories.evaluations import delete_call
from tests.factories.recordings import make_token
from tests.factories.training import bearer, call_of_customer


def test_refused_clip_plays_are_audited_in_the_calls_trail(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    call = call_of_customer(session, runtime.store, runtime.envelope)
    author = bearer(make_token(session, role=Role.TRAINER, scope="training"))
    colleague = bearer(make_token(session, role=Role.TRAINER, scope="training"))

    def cut(title: str) -> str:
        body = {"recording_id": call.id, "title": title, "start_s": 0.5, "end_s": 3.5}
        made = client.post("/api/v1/training/clips", headers=author, json=body)
        assert made.status_code == 201, made.get_json()
        return str(made.get_json()["id"])

    def denials() -> list[dict[str, object]]:
        return [event.details for event in events(session, "recording.access_denied", call.id)]

    clip = cut("Greeting")
    assert client.get(f"/api/v1/training/clips/{clip}/audio", headers=colleague).status_code == 200

    session.get_one(Customer, call.customer_id).objects_to_marketing = True
    session.commit()
    withdrawn = client.get(f"/api/v1/training/clips/{clip}/audio?format=mp3", headers=colleague)
    assert withdrawn.status_code == 409 and withdrawn.get_json()["error"] == "not_for_training"
    assert denials() == [{"reason": "not_for_training", "exclusion": "objects_to_marketing", "clip_id": clip}]

    delete_call(session, runtime.store, make_user(session, role=Role.COMPLIANCE), call, "retention")
    removed = client.get(f"/api/v1/training/clips/{clip}/audio", headers=colleague)
    assert removed.status_code == 404, removed.get_json()
    assert denials()[1:] == [{"reason": "clip_removed", "removed": "retention", "clip_id": clip}]
