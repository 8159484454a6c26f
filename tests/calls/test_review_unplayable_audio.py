"""Found by the last review: the call page offered a player that could not play, and said nothing about why.

A trainer's page of a call with no redacted transcript yet had a player whose audio answered 409
`transcript_required` (the redacted audio is muted along the redacted transcript); and the page of a call whose audio
has gone from the object store was 404 for QA and compliance (the playback ticket could not be issued), so its
transcript and comments could not be read at all. The page now says why there is nothing to play, leaves the player
out, and shows the rest."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import Recording, Transcript
from recordings_service.models.account import Role
from recordings_service.models.recording import RecordingStatus
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from recordings_service.transcript_text import seal_segments
from tests.factories.accounts import login, make_user, post_form
from tests.factories.audit import events
from tests.factories.recordings import FOR_TRAINING_TOO, make_recording
from tests.factories.reviews import make_transcribed_call, script_segments
from tests.page_text import visible_text

NOT_YET = "The audio with personal data muted can be played once the call has been transcribed."
MISSING = "The audio of this call is missing from storage, so it cannot be played: tell the compliance officer."


def trainers_page(client: FlaskClient, session: Session, call: Recording) -> str:
    login(client, make_user(session, role=Role.TRAINER))
    session.commit()
    response = client.get(f"/calls/{call.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize("status", ["stored", "transcribing", "failed"])
def test_a_trainer_is_told_the_redacted_audio_waits_for_the_transcription(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope, status: str
) -> None:
    call = make_recording(session, store, envelope, status=status, purposes=FOR_TRAINING_TOO)

    html = trainers_page(client, session, call)

    assert NOT_YET in visible_text(html)
    assert "<audio" not in html and f"/api/v1/recordings/{call.id}/audio/redacted" not in html
    assert "No transcript to show yet." in visible_text(html)


def test_a_transcript_without_its_redacted_twin_gives_a_trainer_no_player_either(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    # Transcribed before redaction made its twin.
    call = make_transcribed_call(session, store, envelope, purposes=FOR_TRAINING_TOO)

    html = trainers_page(client, session, call)

    assert NOT_YET in visible_text(html) and "<audio" not in html


def test_a_trainer_gets_the_player_once_the_redacted_transcript_is_there(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    call = make_transcribed_call(session, store, envelope, purposes=FOR_TRAINING_TOO)
    transcript = session.scalars(select(Transcript).where(Transcript.recording_id == call.id)).one()
    seal_segments(session, transcript, segments=script_segments(), twin=script_segments())

    html = trainers_page(client, session, call)

    assert f'src="/api/v1/recordings/{call.id}/audio/redacted"' in html
    assert NOT_YET not in visible_text(html)


@pytest.fixture
def lost(session: Session, store: S3ObjectStore, envelope: Envelope) -> Recording:
    """A transcribed call (its redacted twin made) whose original has gone from the store, as reconcile marks it."""
    call = make_transcribed_call(session, store, envelope, purposes=FOR_TRAINING_TOO)
    transcript = session.scalars(select(Transcript).where(Transcript.recording_id == call.id)).one()
    seal_segments(session, transcript, segments=script_segments(), twin=script_segments())
    store.delete(call.storage_key)
    call.status = RecordingStatus.MISSING_OBJECT
    session.commit()
    return call


@pytest.mark.parametrize("role", [Role.QA_SUPERVISOR, Role.COMPLIANCE, Role.TRAINER])
def test_a_call_whose_audio_is_missing_opens_with_its_transcript_and_says_so(
    client: FlaskClient, session: Session, lost: Recording, role: Role
) -> None:
    login(client, make_user(session, role=role))
    session.commit()

    response = client.get(f"/calls/{lost.id}")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert MISSING in visible_text(html) and NOT_YET not in visible_text(html)
    assert "<audio" not in html and "peaks.json" not in html and "/playback" not in html
    assert 'class="segments"' in html  # the transcript (redacted for the trainer), read as ever: audited
    assert len(events(session, "transcript.viewed", lost.id)) == 1
    assert events(session, "recording.play_ticket_issued", lost.id) == []


def test_a_supervisor_comments_on_a_call_whose_audio_is_missing_and_reads_it_back(
    client: FlaskClient, session: Session, lost: Recording
) -> None:
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    session.commit()
    path = f"/calls/{lost.id}"

    sent = post_form(
        client, f"{path}/annotations", {"at_s": "4", "text": "Audio gone: told compliance"}, token_from=path
    )

    assert sent.status_code == 302
    html = client.get(path).get_data(as_text=True)
    assert "Audio gone: told compliance" in html and MISSING in visible_text(html)
