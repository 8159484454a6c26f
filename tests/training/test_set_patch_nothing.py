"""`PATCH /api/v1/training/sets/<id>` that changes nothing (`{}`, or the values the set already has) wrote a
`training.set_updated` event as if the set had changed, and a clip's PATCH a `training.clip_updated`. They now
answer as it is (200) and the trail records only changes, naming the fields changed. DESIGN.md sets no rule for
an empty PATCH; a merge patch of nothing is a no-op (RFC 7396), and the project's other PATCH handlers answer
200 with the resource."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import AuditEvent, TrainingSet
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.recordings import make_token
from tests.factories.training import bearer, stereo_call


def updates(session: Session, set_id: str) -> list[dict[str, Any]]:
    session.expire_all()
    query = select(AuditEvent).where(AuditEvent.action == "training.set_updated", AuditEvent.object_id == set_id)
    return [event.details for event in session.scalars(query.order_by(AuditEvent.seq))]


def test_a_patch_that_changes_nothing_answers_the_set_and_audits_no_update(
    client: FlaskClient, session: Session
) -> None:
    trainer = bearer(make_token(session, role=Role.TRAINER, scope="training"))
    made = client.post("/api/v1/training/sets", headers=trainer, json={"title": "Openings", "description": "Hello"})
    assert made.status_code == 201, made.get_data(as_text=True)
    created = made.get_json()
    path = f"/api/v1/training/sets/{created['id']}"
    updated_at = session.get_one(TrainingSet, created["id"]).updated_at

    for nothing in ({}, {"title": "Openings", "shared": False}, {"clip_ids": []}):
        answer = client.patch(path, headers=trainer, json=nothing)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        assert answer.get_json() == created
    assert updates(session, created["id"]) == []
    assert session.get_one(TrainingSet, created["id"]).updated_at == updated_at

    shared = client.patch(path, headers=trainer, json={"title": "Openings", "shared": True})
    assert shared.status_code == 200 and shared.get_json()["shared"] is True
    assert updates(session, created["id"]) == [{"changed": ["shared"], "clips": 0, "shared": True}]


def test_a_clip_patch_that_changes_nothing_audits_no_update(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    """The same for `PATCH /api/v1/training/clips/<id>`: `{}` wrote `training.clip_updated`."""
    call = stereo_call(session, runtime.store, runtime.envelope)
    session.commit()
    trainer = bearer(make_token(session, role=Role.TRAINER, scope="training"))
    body = {"recording_id": call.id, "title": "Call back 040 123 4567", "tags": ["calm"], "start_s": 1, "end_s": 3}
    made = client.post("/api/v1/training/clips", headers=trainer, json=body)
    assert made.status_code == 201, made.get_data(as_text=True)
    clip = made.get_json()
    path = f"/api/v1/training/clips/{clip['id']}"

    def clip_updates() -> list[dict[str, Any]]:
        session.expire_all()
        query = select(AuditEvent).where(AuditEvent.action == "training.clip_updated")
        return [event.details for event in session.scalars(query.order_by(AuditEvent.seq))]

    for nothing in ({}, {"title": clip["title"], "tags": ["calm"]}):
        answer = client.patch(path, headers=trainer, json=nothing)
        assert answer.status_code == 200 and answer.get_json()["title"] == clip["title"]
    assert clip_updates() == []
    assert client.patch(path, headers=trainer, json={"notes": "listen"}).status_code == 200
    assert clip_updates() == [{"changed": ["notes"]}]
