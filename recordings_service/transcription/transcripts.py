"""Reading transcripts: access-checked and audited, as JSON-ready data or as plain text, SRT and WebVTT."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.errors import NotFound
from recordings_service.models import Transcript
from recordings_service.recordings import get_playable_recording

SEGMENT_FIELDS = ("speaker", "start", "end", "text", "words", "avg_logprob", "no_speech_prob", "suspect")


def view_transcript(session: Session, *, actor: Actor, recording_id: str, format: str = "json") -> Transcript:
    """The recording's transcript if `actor` may see the recording; audited as `transcript.viewed`."""
    recording = get_playable_recording(session, actor=actor, recording_id=recording_id, audio=False)
    transcript = session.scalar(select(Transcript).where(Transcript.recording_id == recording.id))
    if transcript is None:
        raise NotFound(f"recording {recording_id} has no transcript yet ({recording.status})")
    record_event(
        session,
        actor=actor,
        action="transcript.viewed",
        object_type="recording",
        object_id=recording.id,
        details={"transcript_id": transcript.id, "format": format},
    )
    return transcript


def transcript_document(transcript: Transcript) -> dict[str, Any]:
    return {
        "language": transcript.language,
        "engine": transcript.engine,
        "model": transcript.model,
        "segments": [{name: segment[name] for name in SEGMENT_FIELDS} for segment in transcript.segments],
    }


def as_text(transcript: Transcript) -> str:
    lines = [f"[{_clock(s['start'], '.')}] {s['speaker']}: {s['text']}" for s in transcript.segments]
    return "\n".join(lines) + "\n" if lines else ""


def as_srt(transcript: Transcript) -> str:
    return "".join(
        f"{index}\n{_clock(s['start'], ',')} --> {_clock(s['end'], ',')}\n{s['speaker']}: {s['text']}\n\n"
        for index, s in enumerate(transcript.segments, start=1)
    )


def as_vtt(transcript: Transcript) -> str:
    cues = "".join(
        f"{_clock(s['start'], '.')} --> {_clock(s['end'], '.')}\n<v {s['speaker']}>{s['text']}\n\n"
        for s in transcript.segments
    )
    return "WEBVTT\n\n" + cues


TEXT_FORMATS: dict[str, tuple[str, Callable[[Transcript], str]]] = {
    "txt": ("text/plain; charset=utf-8", as_text),
    "srt": ("application/x-subrip; charset=utf-8", as_srt),
    "vtt": ("text/vtt; charset=utf-8", as_vtt),
}


def _clock(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"
