"""Found by fetching the audio as a script would: `?download=yes` (or any value but 1 and true) was read as a play,
so the whole file could be fetched again and again with one `recording.played` a minute in the trail instead of a
`recording.downloaded` each time. Any other value is now refused, naming the parameter."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models import Recording
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.audit import events
from tests.factories.recordings import STEREO, make_token
from tests.factories.reviews import make_transcribed_call


@pytest.fixture
def call(session: Session, store: S3ObjectStore, envelope: Envelope) -> Recording:
    recording = make_transcribed_call(session, store, envelope)
    session.commit()
    return recording


@pytest.fixture
def token(session: Session) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(session, role='compliance', scope='read')}"}


@pytest.mark.parametrize("value", ["yes", "2", "on", ""])
def test_a_download_value_that_is_neither_yes_nor_no_is_refused_naming_it(
    client: FlaskClient, session: Session, call: Recording, token: dict[str, str], value: str
) -> None:
    response = client.get(f"/api/v1/recordings/{call.id}/audio?download={value}", headers=token)

    assert response.status_code == 422
    assert response.get_json()["field"] == "download"
    assert events(session, "recording.played", call.id) == []


def test_download_in_any_letter_case_is_a_download_audited_every_time(
    client: FlaskClient, session: Session, call: Recording, token: dict[str, str]
) -> None:
    for value in ("TRUE", "True"):
        response = client.get(f"/api/v1/recordings/{call.id}/audio?download={value}", headers=token)
        assert response.status_code == 200 and response.data == STEREO.read_bytes()
        assert response.headers["Content-Disposition"] == f'attachment; filename="{call.id}.wav"'
    played = client.get(f"/api/v1/recordings/{call.id}/audio?download=False", headers=token)

    assert played.status_code == 200 and "Content-Disposition" not in played.headers
    assert len(events(session, "recording.downloaded", call.id)) == 2
    assert len(events(session, "recording.played", call.id)) == 1
