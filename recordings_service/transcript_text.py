"""A transcript's text, sealed at rest: the only way to read or write a transcript's segments.

The segments and their PII-redacted twin are kept as JSON encrypted under the recording's own data key
(the one its original audio is encrypted with), bound to the recording and to which of the two they
are. A copy of the database without the master key does not tell what was said, and destroying the
recording's wrapped key at deletion makes its transcript unreadable as it does its audio. The search
index keeps the twin's words in clear, because full-text search must (see `transcription.search_index`
and docs/security.md).

Below every capability package, like `recordings`, so that transcription, redaction, review, privacy,
research and training all read through here without importing one another in a circle.
"""

from __future__ import annotations

import io
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.models import Recording, Transcript
from recordings_service.runtime import envelope_of


def segments_of(session: Session, transcript: Transcript) -> list[dict[str, Any]]:
    """The transcript's segments as kept (card data already taken out)."""
    return _open(session, transcript, redacted=False) or []


def twin_of(session: Session, transcript: Transcript) -> list[dict[str, Any]] | None:
    """The transcript's PII-redacted twin; None until redaction has made one."""
    return _open(session, transcript, redacted=True)


def seal_segments(
    session: Session, transcript: Transcript, *, segments: list[dict[str, Any]], twin: list[dict[str, Any]] | None
) -> None:
    """Keep `segments` and their redacted `twin` sealed under the recording's data key, nothing in clear."""
    transcript.sealed_segments = _seal(session, transcript, segments, redacted=False)
    transcript.sealed_redacted_segments = None if twin is None else _seal(session, transcript, twin, redacted=True)
    transcript.plain_segments = []
    transcript.plain_redacted_segments = None


def rekey_transcript(session: Session, *, recording: Recording, wrapped_data_key: bytes) -> None:
    """Give the recording a new data key, sealing its transcript again under it (the old key opens it last)."""
    transcript = session.scalar(select(Transcript).where(Transcript.recording_id == recording.id))
    if transcript is None:
        recording.wrapped_data_key = wrapped_data_key
        return
    segments, twin = segments_of(session, transcript), twin_of(session, transcript)
    recording.wrapped_data_key = wrapped_data_key
    seal_segments(session, transcript, segments=segments, twin=twin)


def seal_plaintext_transcripts(session: Session, *, actor: Actor, limit: int) -> int:
    """Seal up to `limit` transcripts still kept in clear (written before sealing); returns how many. Audited, a
    batch an event: the transcripts are rewritten (by whom, how many, the first and last)."""
    rows = session.scalars(
        select(Transcript).where(Transcript.sealed_segments.is_(None)).order_by(Transcript.id).limit(limit)
    ).all()
    for transcript in rows:
        seal_segments(session, transcript, segments=transcript.plain_segments, twin=transcript.plain_redacted_segments)
    if rows:
        details = {"transcripts": len(rows), "first_id": rows[0].id, "last_id": rows[-1].id}
        record_event(session, actor=actor, action="transcripts.sealed", details=details)
    session.flush()
    return len(rows)


def _open(session: Session, transcript: Transcript, *, redacted: bool) -> list[dict[str, Any]] | None:
    sealed = transcript.sealed_redacted_segments if redacted else transcript.sealed_segments
    if sealed is None:
        # Not sealed yet: written before sealing, and not yet through `seal_plaintext_transcripts`.
        return transcript.plain_redacted_segments if redacted else transcript.plain_segments
    recording = session.get_one(Recording, transcript.recording_id)
    with envelope_of(session).decrypting_stream(
        io.BytesIO(sealed),
        wrapped=recording.wrapped_data_key,
        object_id=recording.id,
        derived_id=_sealed_id(recording.id, redacted=redacted),
    ) as plaintext:
        opened: list[dict[str, Any]] = json.loads(plaintext.read())
    return opened


def _seal(session: Session, transcript: Transcript, segments: list[dict[str, Any]], *, redacted: bool) -> bytes:
    recording = session.get_one(Recording, transcript.recording_id)
    sealed = _SealedBuffer()
    envelope_of(session).encrypt_derived(
        io.BytesIO(json.dumps(segments, ensure_ascii=False).encode()),
        sealed,
        wrapped=recording.wrapped_data_key,
        object_id=recording.id,
        derived_id=_sealed_id(recording.id, redacted=redacted),
    )
    return sealed.sealed


def _sealed_id(recording_id: str, *, redacted: bool) -> str:
    # Bound to the recording and to which text it is, so neither can be swapped for another's.
    return f"transcripts/{recording_id}/{'redacted' if redacted else 'segments'}"


class _SealedBuffer(io.BytesIO):
    """Keeps its bytes when Tink's encrypting stream closes it at the end."""

    sealed = b""

    def close(self) -> None:
        if not self.closed:
            self.sealed = self.getvalue()
        super().close()
