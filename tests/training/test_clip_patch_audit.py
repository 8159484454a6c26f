"""A clip's answer carries its redacted transcript; changing the clip's title, tags or notes answers with it too,
and that read is audited against the call as opening the clip is (found by exploratory testing: a PATCH that
changed nothing wrote no event at all, and one that did wrote `training.clip_updated` naming the clip only, so
the call's audit trail missed a trainer who read its transcript)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import AuditEvent
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.recordings import make_token
from tests.factories.training import bearer, call_of_customer


@pytest.mark.parametrize("title", ["Opening", "Opening, calm"])
def test_a_clips_transcript_in_a_patch_answer_is_audited_against_its_call(
    client: FlaskClient, session: Session, runtime: Runtime, title: str
) -> None:
    call = call_of_customer(session, runtime.store, runtime.envelope)
    trainer = bearer(make_token(session, role=Role.TRAINER, scope="training"))
    made = client.post(
        "/api/v1/training/clips",
        headers=trainer,
        json={"recording_id": call.id, "start_s": 3.9, "end_s": 8.9, "title": "Opening"},
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    clip_id = made.get_json()["id"]
    since = session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1))

    changed = client.patch(f"/api/v1/training/clips/{clip_id}", headers=trainer, json={"title": title})

    assert changed.status_code == 200 and "[PERSONAL_ID]" in changed.get_json()["transcript"][0]["text"]
    session.expire_all()
    read = session.scalars(
        select(AuditEvent).where(
            AuditEvent.seq > since, AuditEvent.action == "training.clip_viewed", AuditEvent.object_id == call.id
        )
    ).all()
    assert [event.details["clip_id"] for event in read] == [clip_id]
