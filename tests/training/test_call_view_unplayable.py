"""A trainer's view of a call (`/training/calls/<id>`) whose audio cannot be played: one not transcribed yet, or
transcribed without its redacted twin, says why and offers no player; one whose audio has gone from the object
store (reconcile marked it so) was a 404, so its redacted transcript, nominations and clips could not be read at
all. It now opens, says that the audio is missing, as the QA call page does, and offers neither a player nor the
clip form (a clip is cut from the audio); the API's view says whether its `audio` can be played."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import Recording, Transcript
from recordings_service.models.account import Role
from recordings_service.models.recording import RecordingStatus
from recordings_service.runtime import Runtime
from recordings_service.transcript_text import seal_segments, segments_of
from tests.factories.accounts import csrf_token
from tests.factories.audit import events
from tests.factories.recordings import make_token
from tests.factories.training import bearer, clip_row, stereo_call, trainer, training_call
from tests.page_text import visible_text

MISSING = "The audio of this call is missing from storage, so it cannot be played: tell the compliance officer."
NOT_YET = "Trainers may not use this call: no redacted transcript yet."


def page(client: FlaskClient, call: Recording) -> str:
    response = client.get(f"/training/calls/{call.id}")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def no_player(html: str, call: Recording) -> bool:
    return "<audio" not in html and f"/api/v1/recordings/{call.id}/audio/redacted" not in html


@pytest.fixture
def lost(session: Session, runtime: Runtime) -> Recording:
    """A usable call with a clip, whose original has gone from the store, as reconcile marks it."""
    call = stereo_call(session, runtime.store, runtime.envelope)
    clip = clip_row(session, call, trainer(session))
    clip.title = "Closing the call"
    runtime.store.delete(call.storage_key)
    call.status = RecordingStatus.MISSING_OBJECT
    session.commit()
    return call


def test_a_call_whose_audio_is_missing_opens_for_a_trainer_and_says_so(
    trainer_client: FlaskClient, session: Session, lost: Recording
) -> None:
    html = page(trainer_client, lost)

    assert MISSING in visible_text(html) and no_player(html, lost)
    assert "[PERSONAL_ID]" in html and "131052-308T" not in html  # the redacted transcript, read as ever: audited
    assert "Closing the call" in html  # its clips
    assert 'id="clip-form"' not in html  # nothing to cut from
    assert len(events(session, "transcript.viewed", lost.id)) == 1


def test_the_api_view_of_a_call_says_whether_its_audio_can_be_played(
    client: FlaskClient, session: Session, runtime: Runtime, lost: Recording
) -> None:
    fine = training_call(session, runtime.store, runtime.envelope)
    untranscribed = training_call(session, runtime.store, runtime.envelope, transcribed=False)
    session.commit()
    headers = bearer(make_token(session, role=Role.TRAINER, scope="training"))

    def view(call: Recording) -> dict[str, object]:
        answer = client.get(f"/api/v1/training/calls/{call.id}", headers=headers)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        body: dict[str, object] = answer.get_json()
        return body

    assert view(fine)["audio_playable"] is True
    assert view(untranscribed)["audio_playable"] is False
    missing = view(lost)
    assert missing["audio_playable"] is False and missing["usable"] is True and missing["transcript"]


def test_a_clip_form_sent_after_the_audio_went_missing_comes_back_saying_so(
    trainer_client: FlaskClient, client: FlaskClient, session: Session, lost: Recording
) -> None:
    """The form of a page shown before reconcile found the audio gone was answered with a bare 404 page, what was
    typed lost; the API's answer stays 404 `not_found`."""
    path = f"/training/calls/{lost.id}"
    form = {
        "start_s": "1",
        "end_s": "3",
        "title": "Greeting",
        "tags": "",
        "notes": "",
        "csrf_token": csrf_token(trainer_client, path),
    }

    refused = trainer_client.post(f"{path}/clips", data=form)

    html = refused.get_data(as_text=True)
    assert refused.status_code == 404
    assert "no clip can be cut: the call's audio is missing from storage" in visible_text(html)
    assert MISSING in visible_text(html) and 'value="Greeting"' not in html  # no clip form to fill in again
    headers = bearer(make_token(session, role=Role.TRAINER, scope="training"))
    body = {"recording_id": lost.id, "start_s": 1, "end_s": 3, "title": "Greeting"}
    answer = client.post("/api/v1/training/clips", headers=headers, json=body)
    assert answer.status_code == 404 and answer.get_json()["error"] == "not_found"


@pytest.mark.parametrize("status", ["stored", "transcribing", "failed"])
def test_an_untranscribed_call_says_why_and_offers_no_player(
    trainer_client: FlaskClient, session: Session, runtime: Runtime, status: str
) -> None:
    call = training_call(session, runtime.store, runtime.envelope, transcribed=False, status=status)
    session.commit()

    html = page(trainer_client, call)

    assert NOT_YET in visible_text(html) and no_player(html, call)


def test_a_transcript_without_its_redacted_twin_offers_no_player_either(
    trainer_client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    call = training_call(session, runtime.store, runtime.envelope)
    transcript = session.scalars(select(Transcript).where(Transcript.recording_id == call.id)).one()
    seal_segments(session, transcript, segments=segments_of(session, transcript), twin=None)
    session.commit()

    html = page(trainer_client, call)

    assert NOT_YET in visible_text(html) and no_player(html, call)


def test_a_deleted_call_is_still_not_found(trainer_client: FlaskClient, session: Session, runtime: Runtime) -> None:
    call = training_call(session, runtime.store, runtime.envelope)
    call.status = RecordingStatus.DELETED
    session.commit()

    assert trainer_client.get(f"/training/calls/{call.id}").status_code == 404
