"""Factories for redaction tests: the card call fixture, its measured redacted twin, decoding and levels."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from recordings_service.models import Recording, Transcript
from recordings_service.redaction.pci import secure_card_data
from recordings_service.runtime import Runtime
from recordings_service.transcript_text import seal_segments
from tests.factories.recordings import DATA, TEST_ACTOR

CARD_CALL = DATA / "call_card_en_stereo.wav"
RATE = 8000
# Where Whisper base (int8, beam 5) put the words on the customer's channel of CARD_CALL: the card number
# 11.82-17.20 s, the security code 19.18-20.08 s (the script: the customer speaks 9.97-20.85 s).
CARD_SPAN = (11.82, 17.2)
SECURITY_CODE_SPAN = (19.18, 20.08)
CUSTOMER_TURN = (9.52, 20.08)


def card_twin(*, timed: bool = True) -> list[dict[str, Any]]:
    """The redacted twin of the card call as the lead's `redact_transcript` shapes it; untimed: whole segment."""

    def redaction(kind: str, span: tuple[float, float]) -> dict[str, Any]:
        start, end = span if timed else CUSTOMER_TURN
        return {"kind": kind, "start": start, "end": end, "timed": timed}

    return [
        _segment("customer", 0.0, 3.12, "I would like to pay my open invoice my card."),
        _segment("agent", 3.46, 8.22, "Can you read me your card number and the security code on the mark?"),
        _segment("agent", 8.62, 8.9, "Please."),
        {
            **_segment(
                "customer",
                *CUSTOMER_TURN,
                "Yeah, my card number is [CARD] and the security code is [CARD_SECURITY_CODE].",
            ),
            "redactions": [redaction("card", CARD_SPAN), redaction("card_security_code", SECURITY_CODE_SPAN)],
        },
        _segment("agent", 20.29, 22.71, "Thank you for payment in turn."),
    ]


def secure(runtime: Runtime, session: Session, recording: Recording) -> str | None:
    """Mute the call's card data in its stored original, as the transcription job does; the old key, if replaced."""
    return secure_card_data(
        session,
        runtime.store,
        runtime.envelope,
        settings=runtime.settings,
        recording_id=recording.id,
        actor=TEST_ACTOR,
    )


def _segment(speaker: str, start: float, end: float, text: str) -> dict[str, Any]:
    return {
        "speaker": speaker,
        "start": start,
        "end": end,
        "text": text,
        "words": [],
        "avg_logprob": -0.3,
        "no_speech_prob": 0.01,
        "compression_ratio": 1.2,
        "suspect": False,
        "suspect_reasons": [],
        "redactions": [],
    }


def add_transcript(session: Session, recording: Recording, *, twin: list[dict[str, Any]] | None) -> Transcript:
    """A transcript row for `recording` with `twin` as its redacted segments (the kept text is the twin's too)."""
    transcript = Transcript(
        recording_id=recording.id,
        engine="faster-whisper",
        model="whisper-base",
        language="en",
    )
    session.add(transcript)
    seal_segments(session, transcript, segments=twin or [], twin=twin)
    session.flush()
    return transcript


def decode(audio: Path | bytes, *, ffmpeg: str) -> npt.NDArray[np.int16]:
    """Any audio file (a path or its bytes) as (frames, channels) 16-bit samples, decoded by ffmpeg."""
    source = ["-i", str(audio)] if isinstance(audio, Path) else ["-i", "pipe:0"]
    result = subprocess.run(
        [ffmpeg, "-v", "error", *source, "-f", "s16le", "-c:a", "pcm_s16le", "pipe:1"],
        input=None if isinstance(audio, Path) else audio,
        capture_output=True,
        check=True,
    )
    return np.frombuffer(result.stdout, dtype="<i2").reshape(-1, 2)


def frames(span: tuple[float, float]) -> slice:
    """The frames `mute_spans` covers for a span: floor(start * rate) to ceil(end * rate)."""
    return slice(math.floor(span[0] * RATE), math.ceil(span[1] * RATE))


def rms_dbfs(samples: npt.NDArray[np.int16]) -> float:
    rms = math.sqrt(float(np.mean(np.square(samples.astype(np.float64))))) / 32768.0
    return 20 * math.log10(rms) if rms > 0 else -math.inf


def outside(length: int, spans: list[tuple[float, float]]) -> npt.NDArray[np.bool_]:
    """A mask of the frames outside every span."""
    mask = np.ones(length, dtype=bool)
    for span in spans:
        mask[frames(span)] = False
    return mask
