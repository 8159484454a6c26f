"""A call whose stored audio is gone (a database restored beside a store it outlived, an object lost) answers 404
naming the missing audio before any byte is sent, where the answer broke off after its headers (a 200 with no body
and a traceback in the log: the object was first looked for inside the streamed body). Found by the backup drill."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.recordings import make_recording, make_token


def test_audio_missing_from_the_store_is_404_before_anything_is_sent(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    call = make_recording(session, store, envelope)
    session.commit()
    store.delete(call.storage_key)
    headers = {"Authorization": f"Bearer {make_token(session, role='qa_supervisor', scope='read')}"}

    for asked in ({}, {"Range": "bytes=1000-1999"}):
        answer = client.get(f"/api/v1/recordings/{call.id}/audio", headers={**headers, **asked})
        assert answer.status_code == 404, answer.status_code
        assert answer.is_json and answer.get_json()["error"] == "not_found"
        assert "is missing from the object store" in answer.get_json()["message"]
