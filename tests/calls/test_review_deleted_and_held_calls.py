"""Found by using the call page as a trainer: the page of a deleted call was still served to a trainer (a supervisor's
open of it failed only at the playback ticket), and a legal hold's reason, which names the customer and the dispute,
was shown to trainers, who may not know who the customer was."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models import Recording
from recordings_service.models.account import Role
from recordings_service.privacy import holds
from recordings_service.privacy.deletion import delete_recording
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.audit import events
from tests.factories.privacy import OFFICER
from tests.factories.recordings import FOR_TRAINING_TOO
from tests.factories.reviews import make_transcribed_call

REASON = "Dispute with Matti Virtanen over contract 4471"


@pytest.fixture
def call(session: Session, store: S3ObjectStore, envelope: Envelope) -> Recording:
    recording = make_transcribed_call(session, store, envelope, purposes=FOR_TRAINING_TOO)
    session.commit()
    return recording


@pytest.mark.parametrize("role", [Role.TRAINER, Role.QA_SUPERVISOR, Role.COMPLIANCE])
def test_a_deleted_calls_page_is_not_found_for_any_role(
    client: FlaskClient, session: Session, store: S3ObjectStore, call: Recording, role: Role
) -> None:
    delete_recording(session, store, recording_id=call.id, reason="retention", actor=OFFICER)
    session.commit()
    login(client, make_user(session, role=role))

    response = client.get(f"/calls/{call.id}")

    assert response.status_code == 404
    assert call.queue not in response.get_data(as_text=True)
    assert events(session, "transcript.viewed", call.id) == []


def test_a_legal_holds_reason_is_shown_only_to_roles_that_may_know_the_customer(
    client: FlaskClient, session: Session, call: Recording
) -> None:
    holds.place_hold(session, actor=OFFICER, reason=REASON, recording_id=call.id)
    session.commit()

    login(client, make_user(session, role=Role.TRAINER))
    trainers = client.get(f"/calls/{call.id}")
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    supervisors = client.get(f"/calls/{call.id}")

    assert trainers.status_code == 200 and REASON not in trainers.get_data(as_text=True)
    assert supervisors.status_code == 200 and REASON in supervisors.get_data(as_text=True)
