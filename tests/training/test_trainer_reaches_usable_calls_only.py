"""A trainer reaches a call's content through the general call routes (its redacted audio and transcript, its call
page) only while trainers may use the call. Found by exploratory testing: a call taken out of training (its customer
objected to marketing, asked for erasure; its retention ended) was refused as a clip and shown as "may not be played"
in the trainer's own view, while `/api/v1/recordings/<id>/audio/redacted` played it whole and `/transcript` read it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.models import AuditEvent, Customer, Recording
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.accounts import make_user
from tests.factories.recordings import make_token
from tests.factories.staff import client_of
from tests.factories.training import bearer, call_of_customer, sample, trainer, training_call


def _objecting(session: Session, recording: Recording) -> None:
    customer = session.get_one(Customer, recording.customer_id)
    customer.objects_to_marketing = True
    session.commit()


def _denials(session: Session, recording: Recording) -> list[dict[str, object]]:
    query = select(AuditEvent.details).where(
        AuditEvent.action == "recording.access_denied", AuditEvent.object_id == recording.id
    )
    return list(session.scalars(query.order_by(AuditEvent.seq)))


def test_a_trainer_gets_a_calls_transcript_and_redacted_audio_until_it_is_taken_out_of_training(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    call = call_of_customer(session, runtime.store, runtime.envelope)
    trainer_token = bearer(make_token(session, role=Role.TRAINER, scope="training"))
    transcript = f"/api/v1/recordings/{call.id}/transcript"
    audio = f"/api/v1/recordings/{call.id}/audio/redacted"
    assert client.get(transcript, headers=trainer_token).status_code == 200
    assert client.get(audio, headers={**trainer_token, "Range": "bytes=0-99"}).status_code == 206

    _objecting(session, call)

    for path in (transcript, audio):
        refused = client.get(path, headers=trainer_token)
        assert refused.status_code == 409, path
        assert refused.get_json()["error"] == "not_for_training"
        assert "objects_to_marketing" in refused.get_json()["message"]
    assert _denials(session, call) == [{"reason": "not_for_training", "exclusion": "objects_to_marketing"}] * 2
    # A QA supervisor reviews every call in everyday use, objection to marketing or not.
    supervisor_token = bearer(make_token(session, role=Role.QA_SUPERVISOR, scope="read"))
    assert client.get(transcript, headers=supervisor_token).status_code == 200


def test_a_trainers_call_page_of_a_call_taken_out_of_training_is_refused(
    app: Flask, session: Session, runtime: Runtime
) -> None:
    call = call_of_customer(session, runtime.store, runtime.envelope)
    browser = client_of(app, make_user(session, role=Role.TRAINER))
    assert browser.get(f"/calls/{call.id}").status_code == 200

    _objecting(session, call)

    page = browser.get(f"/calls/{call.id}")
    assert page.status_code == 409
    assert "Northern Energy" not in page.get_data(as_text=True)  # no line of the transcript
    assert _denials(session, call) == [{"reason": "not_for_training", "exclusion": "objects_to_marketing"}]


@pytest.mark.parametrize("held", [False, True])
def test_a_call_past_its_retention_is_not_for_training_even_when_a_hold_keeps_it(
    client: FlaskClient, session: Session, runtime: Runtime, held: bool
) -> None:
    kept = training_call(session, runtime.store, runtime.envelope)
    ended = training_call(
        session, runtime.store, runtime.envelope, retain_until=utcnow() - timedelta(days=1), legal_hold=held
    )
    session.commit()

    drawn = sample(session, runtime.envelope, trainer(session), size=5, seed=3)
    assert [item.recording_id for item in drawn.calls] == [kept.id]
    assert drawn.excluded == {"past_retention": 1}

    token = bearer(make_token(session, role=Role.TRAINER, scope="training"))
    body = {"recording_id": ended.id, "first_segment": 0, "last_segment": 1, "title": "Past its keeping"}
    refused = client.post("/api/v1/training/clips", headers=token, json=body)
    assert refused.status_code == 409 and "past_retention" in refused.get_json()["message"]
    assert client.get(f"/api/v1/recordings/{ended.id}/transcript", headers=token).status_code == 409
