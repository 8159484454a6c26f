"""An original FFmpeg refuses (not audio at all, or truncated past decoding) fails its job on the first attempt,
saying why, where it used to be retried MAX_ATTEMPTS times (about 7.5 minutes) first; a decoder that merely stopped
(killed, out of CPU time) says nothing about the file, and the job is retried as before."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from jobs import transcription as transcription_job
from recordings_service.audio.decode import DecoderStopped
from recordings_service.models import Recording, TranscriptionJob
from recordings_service.runtime import Runtime
from recordings_service.transcription import pipeline
from recordings_service.transcription.queue import enqueue_transcription, transcription_status
from tests.factories.recordings import DATA, MONO, make_recording
from tests.factories.transcription import FakeEngine, leftovers_removed  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("leftovers_removed")
NOT_AUDIO = b"Call notes, not a recording.\n" * 400
# A third of a FLAC file: its header opens, and FFmpeg reports invalid data where the frames stop.
TRUNCATED_FLAC = (DATA / "codec_stereo.flac").read_bytes()[: (DATA / "codec_stereo.flac").stat().st_size // 3]


@pytest.fixture
def fake_runtime(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    monkeypatch.setattr(transcription_job, "engine_for", lambda _settings: FakeEngine(0.0))
    return runtime


def _run_queued(session: Session, runtime: Runtime, audio: Path | bytes) -> tuple[TranscriptionJob, Recording]:
    recording = make_recording(session, runtime.store, runtime.envelope, audio=audio, channels=1)
    job = enqueue_transcription(session, recording)
    session.commit()
    transcription_job.transcribe_pending(runtime, budget_s=30)
    session.expire_all()
    return job, recording


@pytest.mark.parametrize(
    ("audio", "reason"),
    [
        (NOT_AUDIO, "the file cannot be opened as accepted audio"),
        (TRUNCATED_FLAC, "the audio could not be decoded"),
    ],
    ids=["not_audio", "truncated"],
)
def test_an_undecodable_original_fails_at_once_with_the_reason(
    session: Session, fake_runtime: Runtime, audio: bytes, reason: str
) -> None:
    job, recording = _run_queued(session, fake_runtime, audio)
    failed = session.get(TranscriptionJob, job.id)
    assert failed is not None
    assert (failed.state, failed.attempts) == ("failed", 1)
    assert failed.last_error == f"undecodable_audio: {reason}"
    assert session.get(Recording, recording.id).status == "failed"  # type: ignore[union-attr]
    shown = transcription_status(session, recording)
    assert shown is not None and shown.state == "failed" and shown.next_attempt_at is None


def test_a_stopped_decoder_is_retried(session: Session, fake_runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    def stopped(*_args: Any, **_kwargs: Any) -> Iterator[Any]:
        raise DecoderStopped("the decoder was stopped (SIGKILL)")
        yield

    monkeypatch.setattr(pipeline, "decoded_pcm", stopped)
    job, recording = _run_queued(session, fake_runtime, MONO)
    retrying = session.get(TranscriptionJob, job.id)
    assert retrying is not None
    assert (retrying.state, retrying.attempts) == ("queued", 1)
    assert retrying.last_error == "the decoder was stopped (SIGKILL)"
    assert session.get(Recording, recording.id).status == "stored"  # type: ignore[union-attr]
