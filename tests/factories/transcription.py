"""Factories for transcription tests: a fast fake engine, the pipeline without a database, word error rates."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy
from sqlalchemy import delete, select

from recordings_service.config import Settings
from recordings_service.db import new_id
from recordings_service.models import Recording, Transcript, TranscriptionJob
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from recordings_service.transcription.engines import SAMPLE_RATE, Audio, Engine, EngineResult, EngineSegment, Word
from recordings_service.transcription.pipeline import RecordingAudio, TranscriptDraft, transcribe_audio
from tests.factories.recordings import DATA, MADE_SOURCE, store_original

FI_STEREO = DATA / "call_fi_stereo.wav"
# Measured with base/int8 on the English fixture: WER 0.155 with faster-whisper (2 threads), the same
# text with openai-whisper on the same weights. Espeak's "Northern Energy, this is Anna" is heard as
# "Northern enemy is in manner"; the gate leaves a little headroom.
ENGLISH_MAX_WER = 0.25
FAKE_ENGINE = "tests.factories.transcription:FakeEngine"
FAKE_DELAY_ENV = "CALLVAULT_TEST_FAKE_ENGINE_DELAY_S"


def script_lines(path: Path) -> list[tuple[float, float, str, str]]:
    """The fixture's `start end speaker: text` lines."""
    lines = []
    for line in path.read_text().splitlines():
        start, end, rest = line.split(" ", 2)
        speaker, _, text = rest.partition(": ")
        lines.append((float(start), float(end), speaker, text))
    return lines


def words_of(text: str) -> list[str]:
    """Lower-case words without punctuation; "8.9" and "8,9" both read as "8 9"."""
    return re.findall(r"\w+", text.lower())


def word_error_rate(reference: list[str], hypothesis: list[str]) -> float:
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, start=1):
        current = [i] + [0] * len(hypothesis)
        for j, hyp_word in enumerate(hypothesis, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word))
        previous = current
    return previous[-1] / max(len(reference), 1)


class FakeEngine:
    """Stands in for Whisper where only the queue is under test: it sleeps instead of decoding.

    The delay (env CALLVAULT_TEST_FAKE_ENGINE_DELAY_S) is spread over five segments so that the
    pipeline's progress callback, and with it the lease renewal, runs while the "engine" works.
    """

    name = "fake"
    model = "fake"

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s

    @classmethod
    def from_settings(cls, settings: Settings) -> FakeEngine:
        return cls(float(os.environ.get(FAKE_DELAY_ENV, "0")))

    def transcribe(self, audio: Audio, *, language: str | None) -> EngineResult:
        return EngineResult(language=language or "en", segments=self._segments(len(audio) / SAMPLE_RATE))

    def _segments(self, duration: float) -> Iterator[EngineSegment]:
        step = duration / 5
        for index in range(5):
            time.sleep(self.delay_s / 5)
            start, end = index * step, (index + 1) * step
            yield EngineSegment(
                start=start,
                end=end,
                text=f"part {index}",
                words=(Word(start=start, end=end, text=f"part{index}", probability=0.9),),
                avg_logprob=-0.1,
                no_speech_prob=0.01,
                compression_ratio=1.0,
            )


def silence(seconds: float) -> Audio:
    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32)


@pytest.fixture
def leftovers_removed(engine: sqlalchemy.Engine) -> Iterator[None]:
    """Remove rows these tests made that escaped the per-test rollback.

    On SQLite, pysqlite opens no transaction before a SAVEPOINT, so releasing the first savepoint
    (what a job's commit does inside a test) commits for real; without this, queued jobs from one
    test would be claimed in the next.
    """
    yield
    mine = select(Recording.id).where(Recording.source == MADE_SOURCE)
    with engine.begin() as connection:
        connection.execute(delete(Transcript).where(Transcript.recording_id.in_(mine)))
        connection.execute(delete(TranscriptionJob).where(TranscriptionJob.recording_id.in_(mine)))
        connection.execute(delete(Recording).where(Recording.source == MADE_SOURCE))


def transcribed_draft(
    store: ObjectStore, envelope: Envelope, engine: Engine, path: Path, language: str
) -> TranscriptDraft:
    """The whole pipeline minus the database (decrypt, decode per channel, engine, merge) on a stereo fixture."""
    recording_id = new_id()
    key, sealed = store_original(store, envelope, raw=path.read_bytes(), recording_id=recording_id)
    audio = RecordingAudio(
        recording_id=recording_id,
        storage_key=key,
        wrapped_data_key=sealed.wrapped_data_key,
        channels=2,
        agent_channel="left",
        language=language,
        duration_s=30.0,
    )
    return transcribe_audio(store, envelope=envelope, engine=engine, audio=audio)


def script_wer(draft: TranscriptDraft, script: Path) -> float:
    reference = [word for *_, text in script_lines(script) for word in words_of(text)]
    hypothesis = [word for segment in draft.segments for word in words_of(segment["text"])]
    return word_error_rate(reference, hypothesis)


def segment(speaker: str, start: float, words: list[str], *, step: float = 0.5) -> dict[str, Any]:
    """A segment as the pipeline writes it: words with leading spaces that spell its text, `step` s apart."""
    timed = [
        {
            "start": round(start + i * step, 3),
            "end": round(start + (i + 1) * step, 3),
            "text": f" {word}",
            "probability": 0.9,
        }
        for i, word in enumerate(words)
    ]
    return {
        "speaker": speaker,
        "start": start,
        "end": round(start + len(words) * step, 3),
        "text": "".join(word["text"] for word in timed),
        "words": timed,
        "suspect": False,
    }


def spoken_draft(*words: str) -> TranscriptDraft:
    """A draft as a worker hands it to `finish_job`: one segment saying `words`."""
    return TranscriptDraft(
        engine="fake",
        model="fake",
        language="en",
        detected_language=None,
        segments=[segment("unknown", 0.0, list(words))],
        processing_s=0.1,
    )
