"""The transcription status of a call this session already holds, after another session restricted it.

Found by review, after the job was read afresh: the status still read `restricted` (and the duration) from the
recording its caller passed, so a session that had loaded the call before a compliance officer restricted the
customer's processing (GDPR Art. 18) showed its job queued, due at a time, while the queue held it."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from recordings_service.db import utcnow
from recordings_service.models.account import Role
from recordings_service.privacy import restriction, subjects
from recordings_service.runtime import Runtime
from recordings_service.transcription.queue import HELD_RESTRICTED, enqueue_transcription, transcription_status
from tests.factories.accounts import login, make_user
from tests.factories.privacy import OFFICER, customer
from tests.factories.recordings import MONO, make_recording
from tests.factories.transcription import leftovers_removed  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("leftovers_removed")


def test_the_status_shows_the_job_held_once_another_session_restricted_the_call(
    session: Session, sessions: sessionmaker[Session], runtime: Runtime, client: FlaskClient
) -> None:
    person = customer(session)
    call = make_recording(session, runtime.store, runtime.envelope, audio=MONO, channels=1, customer_id=person.id)
    enqueue_transcription(session, call)
    login(client, make_user(session, role=Role.COMPLIANCE))
    session.commit()

    with sessions() as officer:
        request = subjects.create_request(
            officer, actor=OFFICER, customer_ref=person.customer_ref, kind="restriction", received_at=utcnow()
        )
        restriction.restrict_processing(officer, actor=OFFICER, request_id=request.id)
        officer.commit()
    assert not call.restricted  # as this session still holds it

    status = transcription_status(session, call)

    assert status is not None
    assert (status.state, status.next_attempt_at) == (HELD_RESTRICTED, None)
    shown = client.get(f"/api/v1/recordings/{call.id}")
    assert shown.status_code == 200
    assert shown.get_json()["transcription"]["state"] == HELD_RESTRICTED
