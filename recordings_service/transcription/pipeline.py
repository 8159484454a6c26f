"""One recording through transcription: decrypt, decode each channel, run the engine, flag doubt, merge.

Memory stays flat however long the call: each channel is decoded on its own, streamed, and handed
to the engine in windows of a few minutes cut at a quiet moment (faster-whisper builds the
spectrogram of whatever it is given in one piece, about 1 GB per hour of audio). An engine that
decodes channels together (`ChannelBatchingEngine`) gets each channel's next window side by side.
"""

from __future__ import annotations

import itertools
import re
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audio.decode import DecoderStopped, decoded_pcm
from recordings_service.audio.probe import UnsupportedAudio
from recordings_service.errors import DomainError, NotFound
from recordings_service.models import Recording, Transcript
from recordings_service.redaction.transcripts import redact_transcript
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from recordings_service.storage.spool import scratch_dir
from recordings_service.transcript_text import seal_segments, segments_of
from recordings_service.transcription.engines import (
    SAMPLE_RATE,
    Audio,
    ChannelBatchingEngine,
    Engine,
    EngineSegment,
)
from recordings_service.transcription.search_index import index_transcript

WINDOW_S = 300.0
# Where in the last part of a window to look for the quietest moment to cut.
CUT_SEARCH_S = 20.0
CUT_FRAME_S = 0.2
# Whisper's own thresholds: above this compression the text is usually a repetition loop.
MAX_COMPRESSION_RATIO = 2.4
SILENCE_RMS = 10 ** (-55 / 20)  # -55 dBFS: no speech energy under the segment at all
REPEATED_NGRAM = 3
REPEATED_NGRAM_COUNT = 3
# What a check against the audio vouches for (trust signals may be recomputed).
CHECKED_FIELDS = ("speaker", "start", "end", "text")

Progress = Callable[[float], None]


class UndecodableAudio(DomainError):
    """FFmpeg refused the original's data (not audio, truncated, corrupt): every attempt would fail alike."""

    code = "undecodable_audio"


@dataclass(frozen=True)
class RecordingAudio:
    """What the pipeline needs of a recording, read in a short transaction before the long work."""

    recording_id: str
    storage_key: str
    wrapped_data_key: bytes
    channels: int
    agent_channel: str | None
    language: str
    duration_s: float

    @classmethod
    def load(cls, session: Session, recording_id: str) -> RecordingAudio:
        recording = session.get(Recording, recording_id)
        if recording is None:
            raise NotFound(f"recording {recording_id} not found")
        return cls(
            recording_id=recording.id,
            storage_key=recording.storage_key,
            wrapped_data_key=recording.wrapped_data_key,
            channels=recording.channels,
            agent_channel=recording.agent_channel,
            language=recording.language,
            duration_s=recording.duration_s,
        )

    def speakers(self) -> list[tuple[str, int | None]]:
        """(speaker, channel index) to transcribe; None downmixes all channels into one."""
        if self.channels != 2:
            return [("unknown", None)]
        agent = {"left": 0, "0": 0, "right": 1, "1": 1}.get((self.agent_channel or "").lower())
        if agent is None:
            return [("unknown", 0), ("unknown", 1)]
        return [("agent", agent), ("customer", 1 - agent)]


@dataclass(frozen=True)
class TranscriptDraft:
    engine: str
    model: str
    language: str
    detected_language: str | None
    segments: list[dict[str, Any]]
    processing_s: float


def forced_language(recording_language: str, configured: str) -> str | None:
    """The recording's own language wins; then the configured one; None means detect."""
    for candidate in (recording_language, configured):
        if candidate and candidate.lower() != "auto":
            return candidate.lower()
    return None


def transcribe_audio(
    store: ObjectStore,
    *,
    envelope: Envelope,
    engine: Engine,
    audio: RecordingAudio,
    configured_language: str = "auto",
    on_progress: Progress | None = None,
) -> TranscriptDraft:
    """Transcribe one recording's original; touches no database, so no transaction is held meanwhile."""
    started = time.monotonic()
    language = forced_language(audio.language, configured_language)
    detected: str | None = None
    segments: list[dict[str, Any]] = []
    speakers = audio.speakers()
    together = isinstance(engine, ChannelBatchingEngine)
    with scratch_dir("transcribe") as scratch:
        plaintext = scratch / "original"
        _decrypt_to(store, envelope=envelope, audio=audio, path=plaintext)
        for windows in _window_groups(plaintext, audio, together=together):
            heard, decoded = _decoded(engine, windows, language=language)
            for window, segment in decoded:
                record = _segment_record(segment, speaker=window.speaker, offset=window.offset, audio=window.audio)
                segments.append(record)
                if on_progress is not None:
                    # Channels decoded together advance together; one after another, each is a share of the call.
                    done = window.offset + segment.end
                    if not together:
                        done = (window.channel * audio.duration_s + done) / len(speakers)
                    on_progress(min(done, audio.duration_s))
            if language is None and segments:
                # Detect once, on the first window with speech, then hold it for the whole call.
                language = detected = heard
    segments.sort(key=lambda item: (item["start"], item["end"]))
    return TranscriptDraft(
        engine=engine.name,
        model=engine.model,
        language=language or "",
        detected_language=detected,
        segments=segments,
        processing_s=round(time.monotonic() - started, 3),
    )


def save_transcript(
    session: Session, *, recording_id: str, draft: TranscriptDraft, customer_number_pattern: str | None = None
) -> Transcript:
    """Store the draft as the recording's transcript (card data taken out) with its redacted twin, and index the twin.

    Replaces an earlier transcript (a re-transcription). `customer_number_pattern` overrides the default
    customer-number rule of `redaction.customer_numbers`.
    """
    transcript = session.scalar(select(Transcript).where(Transcript.recording_id == recording_id))
    if transcript is None:
        transcript = Transcript(recording_id=recording_id)
        session.add(transcript)
    transcript.engine = draft.engine
    transcript.model = draft.model
    transcript.language = draft.language
    transcript.detected_language = draft.detected_language
    transcript.processing_s = draft.processing_s
    transcript.verified_by = None
    transcript.verified_at = None
    store_segments(session, transcript, draft.segments, customer_number_pattern=customer_number_pattern)
    return transcript


def store_segments(
    session: Session,
    transcript: Transcript,
    segments: list[dict[str, Any]],
    *,
    customer_number_pattern: str | None = None,
) -> None:
    """Keep `segments` without their card data, with the redacted twin beside them, and index the twin."""
    # Transcription and rectification both write a transcript's text through here, so neither can skip
    # the card scrub or leave the search index behind.
    redacted = redact_transcript(segments, transcript.language, customer_number_pattern=customer_number_pattern)
    if transcript.verified_at is not None and _as_said(segments_of(session, transcript)) != _as_said(
        redacted.without_card_data
    ):
        # The whole-transcript check vouched for the text then kept; changed text (a rectification, card data a
        # newer release finds) has not been checked against the audio, as a changed segment's own check is void.
        transcript.verified_by = None
        transcript.verified_at = None
    seal_segments(session, transcript, segments=redacted.without_card_data, twin=redacted.twin)
    session.flush()
    index_transcript(session, transcript)


def _as_said(segments: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [tuple(segment.get(key) for key in CHECKED_FIELDS) for segment in segments]


def _decrypt_to(store: ObjectStore, *, envelope: Envelope, audio: RecordingAudio, path: Path) -> None:
    # The file lives in a private (0700) temporary directory that is removed when the work ends.
    ciphertext = store.get(audio.storage_key)
    try:
        with (
            envelope.decrypting_stream(ciphertext, wrapped=audio.wrapped_data_key, object_id=audio.recording_id) as src,
            path.open("wb") as out,
        ):
            shutil.copyfileobj(src, out)  # type: ignore[misc]
    finally:
        ciphertext.close()


@dataclass(frozen=True)
class _Window:
    """A stretch of one channel (or the downmix) of the call, `offset` seconds from its start."""

    speaker: str
    channel: int  # position among the channels transcribed
    offset: float
    audio: Audio


def _window_groups(path: Path, audio: RecordingAudio, *, together: bool) -> Iterator[list[_Window]]:
    """The call's windows one channel after another, or (together) each channel's next window side by side."""

    def windows_of(index: int, speaker: str, channel: int | None) -> Iterator[_Window]:
        for offset, window in _windows(_decoded_channel(path, channel=channel, duration_s=audio.duration_s)):
            yield _Window(speaker=speaker, channel=index, offset=offset, audio=window)

    # Generators: a channel's decoder starts when its first window is needed.
    channels = [windows_of(index, speaker, channel) for index, (speaker, channel) in enumerate(audio.speakers())]
    if together:
        for side_by_side in itertools.zip_longest(*channels):
            yield [window for window in side_by_side if window is not None]
    else:
        for channel_windows in channels:
            for window in channel_windows:
                yield [window]


def _decoded(
    engine: Engine, windows: list[_Window], *, language: str | None
) -> tuple[str, Iterator[tuple[_Window, EngineSegment]]]:
    """The language heard and, lazily, each decoded segment with the window it belongs to."""
    if isinstance(engine, ChannelBatchingEngine):
        joint = engine.transcribe_channels([window.audio for window in windows], language=language)
        return joint.language, ((windows[index], segment) for index, segment in joint.segments)
    (window,) = windows
    result = engine.transcribe(window.audio, language=language)
    return result.language, ((window, segment) for segment in result.segments)


def _decoded_channel(path: Path, *, channel: int | None, duration_s: float) -> Iterator[Audio]:
    """One channel (or a downmix) of the file as 16 kHz mono float32 blocks, streamed from a confined decoder."""
    try:
        for block in decoded_pcm(path, duration_s=duration_s, rate=SAMPLE_RATE, channels=1, channel=channel):
            yield block.reshape(-1)
    except DecoderStopped:
        raise  # says nothing about the file: the job retries
    except UnsupportedAudio as exc:
        raise UndecodableAudio(exc.reason) from None


def _windows(blocks: Iterator[Audio]) -> Iterator[tuple[float, Audio]]:
    """Regroup decoded blocks into windows of about WINDOW_S, each cut at the quietest nearby moment."""
    window_len = int(WINDOW_S * SAMPLE_RATE)
    pending: list[Audio] = []
    pending_len = 0
    offset = 0
    for block in blocks:
        pending.append(block)
        pending_len += len(block)
        if pending_len < window_len:
            continue
        joined = np.concatenate(pending)
        cut = _quiet_cut(joined[:window_len])
        yield offset / SAMPLE_RATE, joined[:cut]
        offset += cut
        pending, pending_len = [joined[cut:].copy()], len(joined) - cut
    if pending_len:
        yield offset / SAMPLE_RATE, np.concatenate(pending)


def _quiet_cut(window: Audio) -> int:
    frame = int(CUT_FRAME_S * SAMPLE_RATE)
    search = window[-int(CUT_SEARCH_S * SAMPLE_RATE) :]
    usable = len(search) // frame * frame
    if usable == 0:
        return len(window)
    energy = np.square(search[:usable]).reshape(-1, frame).mean(axis=1)
    quietest = int(np.argmin(energy))
    return len(window) - len(search) + quietest * frame + frame // 2


def _segment_record(segment: EngineSegment, *, speaker: str, offset: float, audio: Audio) -> dict[str, Any]:
    reasons = suspect_reasons(segment, audio=audio)
    return {
        "speaker": speaker,
        "start": round(offset + segment.start, 3),
        "end": round(offset + segment.end, 3),
        "text": segment.text,
        "words": [
            {
                "start": round(offset + word.start, 3),
                "end": round(offset + word.end, 3),
                "text": word.text,
                "probability": round(word.probability, 4),
            }
            for word in segment.words
        ],
        "avg_logprob": round(segment.avg_logprob, 4),
        "no_speech_prob": round(segment.no_speech_prob, 4),
        "compression_ratio": round(segment.compression_ratio, 4),
        "suspect": bool(reasons),
        "suspect_reasons": reasons,
    }


def suspect_reasons(segment: EngineSegment, *, audio: Audio) -> list[str]:
    """Why a segment may be a hallucination rather than what was said (empty when it looks sound)."""
    reasons = []
    if segment.compression_ratio > MAX_COMPRESSION_RATIO:
        reasons.append("compression_ratio")
    if has_repeated_ngrams(segment.text):
        reasons.append("repetition")
    first, last = int(segment.start * SAMPLE_RATE), int(segment.end * SAMPLE_RATE)
    under = audio[max(first, 0) : max(last, first + 1)]
    if segment.text and (under.size == 0 or float(np.sqrt(np.mean(np.square(under)))) < SILENCE_RMS):
        reasons.append("text_over_silence")
    return reasons


def has_repeated_ngrams(text: str) -> bool:
    """A word four times running, or any three-word sequence three times: Whisper's loop signature."""
    words = re.findall(r"\w+", text.lower())
    run = 1
    for previous, current in itertools.pairwise(words):
        run = run + 1 if current == previous else 1
        if run >= 4:
            return True
    grams = Counter(tuple(words[i : i + REPEATED_NGRAM]) for i in range(len(words) - REPEATED_NGRAM + 1))
    return any(count >= REPEATED_NGRAM_COUNT for count in grams.values())
