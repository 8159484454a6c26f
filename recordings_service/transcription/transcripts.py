"""Reading transcripts: access-checked and audited, as JSON-ready data or as plain text, SRT and WebVTT.

A reader who may only see redacted material gets the redacted twin, in the same shapes. The text itself
is opened by `recordings_service.transcript_text`.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.errors import NotFound
from recordings_service.models import Transcript
from recordings_service.recordings import get_playable_recording
from recordings_service.transcript_text import segments_of, twin_of

SEGMENT_FIELDS = ("speaker", "start", "end", "text", "words", "avg_logprob", "no_speech_prob", "suspect")


@dataclass(frozen=True)
class TranscriptView:
    """A transcript as one reader may see it: `segments` are the redacted twin's when `redacted`."""

    transcript: Transcript
    redacted: bool
    segments: list[dict[str, Any]]


def open_view(session: Session, transcript: Transcript, *, redacted: bool) -> TranscriptView:
    """The transcript opened for a reader whose access was checked (and audited) by the caller."""
    segments = (twin_of(session, transcript) or []) if redacted else segments_of(session, transcript)
    return TranscriptView(transcript, redacted, segments)


def view_transcript(
    session: Session, *, actor: Actor, recording_id: str, redacted: bool, format: str = "json"
) -> TranscriptView:
    """The recording's transcript (its redacted twin when `redacted`) if `actor` may see the recording.

    Audited as `transcript.viewed`.
    """
    recording = get_playable_recording(session, actor=actor, recording_id=recording_id, audio=False)
    transcript = session.scalar(select(Transcript).where(Transcript.recording_id == recording.id))
    if transcript is None:
        raise NotFound(f"recording {recording_id} has no transcript yet ({recording.status})")
    if redacted and not transcript.has_redacted_twin:
        raise NotFound(f"recording {recording_id} has no redacted transcript yet; transcribe it again to make one")
    record_event(
        session,
        actor=actor,
        action="transcript.viewed",
        object_type="recording",
        object_id=recording.id,
        details={"transcript_id": transcript.id, "format": format, "redacted": redacted},
    )
    return open_view(session, transcript, redacted=redacted)


def transcript_document(view: TranscriptView) -> dict[str, Any]:
    transcript = view.transcript
    return {
        "language": transcript.language,
        "engine": transcript.engine,
        "model": transcript.model,
        "redacted": view.redacted,
        "segments": [{name: segment[name] for name in SEGMENT_FIELDS} for segment in view.segments],
    }


def as_text(view: TranscriptView) -> str:
    lines = [f"[{_clock(s['start'], '.')}] {s['speaker']}: {_one_line(s['text'])}" for s in view.segments]
    return "\n".join(lines) + "\n" if lines else ""


def as_srt(view: TranscriptView) -> str:
    return "".join(
        f"{index}\n{_clock(s['start'], ',')} --> {_clock(s['end'], ',')}\n{s['speaker']}: {_one_line(s['text'])}\n\n"
        for index, s in enumerate(view.segments, start=1)
    )


def as_vtt(view: TranscriptView) -> str:
    # Cue text is markup in WebVTT: a `<` opens a tag and `-->` is not allowed at all, so both are written as
    # character references (a corrected segment's text is whatever was typed).
    cues = "".join(
        f"{_clock(s['start'], '.')} --> {_clock(s['end'], '.')}\n"
        f"<v {html.escape(s['speaker'], quote=False)}>{html.escape(_one_line(s['text']), quote=False)}\n\n"
        for s in view.segments
    )
    return "WEBVTT\n\n" + cues


TEXT_FORMATS: dict[str, tuple[str, Callable[[TranscriptView], str]]] = {
    "txt": ("text/plain; charset=utf-8", as_text),
    "srt": ("application/x-subrip; charset=utf-8", as_srt),
    "vtt": ("text/vtt; charset=utf-8", as_vtt),
}


def _one_line(text: str) -> str:
    """The segment's text on one line: a line break inside it (a corrected segment may have one) would end an
    SRT or WebVTT cue early, or start a line of plain text without its time and speaker."""
    return " ".join(text.split())


def _clock(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"
