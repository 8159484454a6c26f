"""The transcript API: JSON and subtitle formats, audit, no caching, access rules, and re-queueing."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models import Recording, TranscriptionJob
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from recordings_service.transcription.pipeline import TranscriptDraft, save_transcript
from tests.factories.accounts import login, make_user
from tests.factories.audit import events
from tests.factories.recordings import FOR_TRAINING_TOO, make_recording
from tests.factories.transcription import leftovers_removed  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("leftovers_removed")


def _segment(speaker: str, start: float, end: float, text: str) -> dict[str, object]:
    return {
        "speaker": speaker,
        "start": start,
        "end": end,
        "text": text,
        "words": [{"start": start, "end": end, "text": text.split(maxsplit=1)[0], "probability": 0.9}],
        "avg_logprob": -0.2,
        "no_speech_prob": 0.01,
        "compression_ratio": 1.1,
        "suspect": speaker == "customer",
        "suspect_reasons": ["repetition"] if speaker == "customer" else [],
    }


@pytest.fixture
def transcribed(session: Session, runtime: Runtime) -> Recording:
    recording = make_recording(session, runtime.store, runtime.envelope, purposes=FOR_TRAINING_TOO)
    draft = TranscriptDraft(
        engine="faster-whisper",
        model="whisper-base",
        language="en",
        detected_language=None,
        segments=[_segment("agent", 0.5, 3.25, "Northern Energy, hello."), _segment("customer", 3.9, 3661.5, "Hi.")],
        processing_s=1.0,
    )
    save_transcript(session, recording_id=recording.id, draft=draft)
    recording.status = "transcribed"
    session.commit()
    return recording


@pytest.fixture
def supervisor(client: FlaskClient, session: Session) -> FlaskClient:
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    session.commit()
    return client


def test_transcript_json_has_segments_with_speakers_words_and_trust_signals(
    supervisor: FlaskClient, session: Session, transcribed: Recording
) -> None:
    response = supervisor.get(f"/api/v1/recordings/{transcribed.id}/transcript")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert (body["language"], body["engine"], body["model"]) == ("en", "faster-whisper", "whisper-base")
    assert body["detected_language"] is None  # the call said its language
    first = body["segments"][0]
    assert set(first) == {"speaker", "start", "end", "text", "words", "avg_logprob", "no_speech_prob", "suspect"}
    assert first["words"][0] == {"start": 0.5, "end": 3.25, "text": "Northern", "probability": 0.9}
    assert [s["suspect"] for s in body["segments"]] == [False, True]
    viewed = events(session, "transcript.viewed", transcribed.id)
    assert len(viewed) == 1 and viewed[0].details["format"] == "json"


def test_a_detected_language_says_so(supervisor: FlaskClient, session: Session, runtime: Runtime) -> None:
    """Found by the odd-audio pass: a Finnish call sent as `auto` came back in Thai, and the transcript did not say
    that its language was detected rather than given."""
    recording = make_recording(session, runtime.store, runtime.envelope)
    draft = TranscriptDraft(
        engine="faster-whisper",
        model="whisper-base",
        language="th",
        detected_language="th",
        segments=[_segment("agent", 0.5, 3.25, "Northern Energy, hello.")],
        processing_s=1.0,
    )
    save_transcript(session, recording_id=recording.id, draft=draft)
    session.commit()
    body = supervisor.get(f"/api/v1/recordings/{recording.id}/transcript").get_json()
    assert (body["language"], body["detected_language"]) == ("th", "th")


@pytest.mark.parametrize(
    ("fmt", "mimetype", "expected"),
    [
        ("txt", "text/plain", "[00:00:00.500] agent: Northern Energy, hello.\n[00:00:03.900] customer: Hi.\n"),
        ("srt", "application/x-subrip", "2\n00:00:03,900 --> 01:01:01,500\ncustomer: Hi.\n\n"),
        ("vtt", "text/vtt", "WEBVTT\n\n00:00:00.500 --> 00:00:03.250\n<v agent>Northern Energy, hello.\n\n"),
    ],
)
def test_transcript_as_text_and_subtitles(
    supervisor: FlaskClient, session: Session, transcribed: Recording, fmt: str, mimetype: str, expected: str
) -> None:
    response = supervisor.get(f"/api/v1/recordings/{transcribed.id}/transcript?format={fmt}")
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)
    assert text.endswith(expected) if fmt == "srt" else text.startswith(expected)
    assert events(session, "transcript.viewed", transcribed.id)[0].details["format"] == fmt


def test_unknown_format_is_422(supervisor: FlaskClient, transcribed: Recording) -> None:
    response = supervisor.get(f"/api/v1/recordings/{transcribed.id}/transcript?format=docx")
    assert response.status_code == 422


def test_no_transcript_yet_is_404_and_restricted_calls_are_hidden(
    supervisor: FlaskClient, session: Session, runtime: Runtime, transcribed: Recording
) -> None:
    pending = make_recording(session, runtime.store, runtime.envelope)
    transcribed.restricted = True
    session.commit()
    assert supervisor.get(f"/api/v1/recordings/{pending.id}/transcript").get_json()["error"] == "not_found"
    assert supervisor.get(f"/api/v1/recordings/{transcribed.id}/transcript").status_code == 404
    assert events(session, "recording.access_denied", transcribed.id)
    assert not events(session, "transcript.viewed", transcribed.id)


def test_trainers_read_only_the_redacted_twin(client: FlaskClient, session: Session, transcribed: Recording) -> None:
    login(client, make_user(session, role=Role.TRAINER))
    session.commit()
    body = client.get(f"/api/v1/recordings/{transcribed.id}/transcript").get_json()
    assert body["redacted"] is True
    assert [segment["text"] for segment in body["segments"]] == ["Northern Energy, hello.", "Hi."]


def test_requeue_resets_the_job_and_isevents(
    app: Flask, supervisor: FlaskClient, session: Session, transcribed: Recording
) -> None:
    app.config["WTF_CSRF_ENABLED"] = False  # CSRF on session POSTs is tested in test_login.py
    response = supervisor.post(f"/api/v1/recordings/{transcribed.id}/transcribe")
    assert response.status_code == 202
    body = response.get_json()
    assert body["state"] == "queued"
    session.expire_all()
    job = session.get(TranscriptionJob, body["job_id"])
    assert job is not None and (job.recording_id, job.attempts) == (transcribed.id, 0)
    assert session.get(Recording, transcribed.id).status == "stored"  # type: ignore[union-attr]
    assert len(events(session, "transcription.requeued", transcribed.id)) == 1
    missing = supervisor.post("/api/v1/recordings/01NOSUCHRECORDING000000000/transcribe")
    assert missing.status_code == 404


def test_openapi_documents_the_transcript_endpoints(client: FlaskClient) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "/api/v1/recordings/{recording_id}/transcript" in paths
    assert "/api/v1/recordings/{recording_id}/transcribe" in paths


def test_recording_detail_shows_transcription_progress(
    supervisor: FlaskClient, session: Session, runtime: Runtime
) -> None:
    from recordings_service.transcription.queue import enqueue_transcription

    recording = make_recording(session, runtime.store, runtime.envelope)
    job = enqueue_transcription(session, recording)
    job.state = "running"
    job.progress_s = recording.duration_s / 4
    session.commit()
    body = supervisor.get(f"/api/v1/recordings/{recording.id}").get_json()
    assert body["transcription"]["state"] == "running"
    assert body["transcription"]["progress_s"] == pytest.approx(recording.duration_s / 4, abs=0.01)
    assert body["transcription"]["progress"] == pytest.approx(0.25, abs=0.001)
    job.state = "done"
    session.commit()
    done = supervisor.get(f"/api/v1/recordings/{recording.id}").get_json()["transcription"]
    assert done["progress"] == 1.0
