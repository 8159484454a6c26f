"""A hold refused for its call id says so in the field of the API's error body, as every other refusal of it does.

Found acting as a compliance officer's client: a mistyped or deleted `recording_id` came back 404 / 409 with no
`field`, while a missing reason or customer reference named theirs, so a client could not mark what to correct.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.privacy.deletion import delete_recording
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.privacy import OFFICER, aged_call
from tests.factories.recordings import make_token


def test_an_unknown_or_deleted_call_is_refused_naming_recording_id(
    client: FlaskClient, session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    officer = {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="compliance")}
    gone = aged_call(session, bucket, envelope, started_at=datetime.now(UTC) - timedelta(days=30), purposes=[])
    delete_recording(session, bucket, recording_id=gone.id, reason="retention", actor=OFFICER)
    session.commit()

    unknown = client.post(
        "/api/v1/legal-holds", json={"recording_id": "01J0000000000000000000000A", "reason": "x"}, headers=officer
    )
    assert unknown.status_code == 404 and unknown.json["field"] == "recording_id", unknown.json
    deleted = client.post("/api/v1/legal-holds", json={"recording_id": gone.id, "reason": "x"}, headers=officer)
    assert deleted.status_code == 409 and deleted.json["field"] == "recording_id", deleted.json
