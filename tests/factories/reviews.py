"""Factories for the call page tests: a stored call with a transcript whose word timings are known."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from recordings_service.models import Recording, Transcript
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from recordings_service.transcript_text import seal_segments
from recordings_service.transcription.pipeline import store_segments
from tests.factories.recordings import STEREO, make_recording
from tests.factories.transcription import script_lines

EN_SCRIPT = STEREO.with_suffix(".txt")
EN_DURATION_S = 23.678
LOW_WORD = "fixed"  # given probability 0.3: shown as a low-confidence word
SUSPECT_SEGMENT = 5  # flagged as text over silence


def script_segments() -> list[dict[str, Any]]:
    """The English fixture's script as transcript segments, each line's words spread evenly over its time."""
    segments = []
    for index, (start, end, speaker, text) in enumerate(script_lines(EN_SCRIPT)):
        tokens = text.split()
        step = (end - start) / len(tokens)
        words = [
            {
                "start": round(start + k * step, 3),
                "end": round(start + (k + 1) * step, 3),
                "text": " " + token,
                "probability": 0.3 if re.sub(r"\W", "", token) == LOW_WORD else 0.95,
            }
            for k, token in enumerate(tokens)
        ]
        suspect = index == SUSPECT_SEGMENT
        segments.append(
            {
                "speaker": speaker,
                "start": start,
                "end": end,
                "text": " " + text,
                "words": words,
                "avg_logprob": -0.2,
                "no_speech_prob": 0.01,
                "compression_ratio": 1.2,
                "suspect": suspect,
                "suspect_reasons": ["text_over_silence"] if suspect else [],
            }
        )
    return segments


def word_start(text: str) -> float:
    """Where the first word spelled `text` starts in `script_segments()`."""
    for segment in script_segments():
        for word in segment["words"]:
            if re.sub(r"\W", "", word["text"]).lower() == text.lower():
                return float(word["start"])
    raise LookupError(text)


def make_transcribed_call(
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    *,
    transcript: bool = True,
    redacted: bool = False,
    **overrides: Any,
) -> Recording:
    """The English stereo fixture stored encrypted, with a transcript of its script (no Whisper run); `redacted`:
    stored as transcription stores it, with its redacted twin (what training and research need), else without."""
    recording = make_recording(
        session, store, envelope, audio=STEREO, duration_s=EN_DURATION_S, status="transcribed", **overrides
    )
    if transcript:
        row = Transcript(recording_id=recording.id, engine="script", model="fixture", language="en", processing_s=0.0)
        session.add(row)
        if redacted:
            store_segments(session, row, script_segments())
        else:
            seal_segments(session, row, segments=script_segments(), twin=None)
        session.flush()
    return recording
