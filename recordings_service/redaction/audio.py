"""Redacted audio: every finding of the redacted transcript muted (or toned) on every channel, made on demand
from the original and cached, encrypted, as `derived/<id>/redacted.<ext>`.

The derivative is encrypted under the recording's own data key (a fresh stream, its associated data naming
the recording and what the copy was made from: the original's hash, the spans, mute or tone). Destroying the
recording's wrapped key therefore makes this copy unreadable too, backups included; a stale copy (a new
transcript, a replaced original with its new key) fails authentication or its header check and is rebuilt;
and a copy moved under another recording cannot be read. A small header in front of the ciphertext holds
the plaintext size and what the copy was made from, so one atomic put writes everything and a read path
writes no row. The object lives under `derived/<id>/`, which deleting the recording removes with every
version.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import struct
import time
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audio.edit import mute_spans
from recordings_service.audio.formats import format_of
from recordings_service.audit import Actor, record_event
from recordings_service.errors import Conflict, NotFound
from recordings_service.models import Recording, Transcript
from recordings_service.originals import open_original
from recordings_service.playback import record_served
from recordings_service.recordings import get_playable_recording
from recordings_service.redaction.transcripts import redactions_of
from recordings_service.storage.derived import delete_derived, put_derived
from recordings_service.storage.encryption import DecryptionFailed, Envelope, PlaintextReader, plaintext_range
from recordings_service.storage.object_store import ObjectStore
from recordings_service.storage.spool import scratch_dir
from recordings_service.transcript_text import twin_of

log = logging.getLogger(__name__)

# Word timings are approximate: each span is widened by this much on both sides.
PAD_S = 0.25
TONE_HZ = 1000.0
HEADER_VERSION = 2
_LENGTH = struct.Struct(">I")
# The header (wrapped key and a few numbers) is a few hundred bytes; one ranged read fetches it.
_HEADER_PROBE = 4096


class TranscriptRequired(Conflict):
    """Redacted audio is cut along the redacted transcript, which this recording does not have yet."""

    code = "transcript_required"


@dataclass(frozen=True)
class RedactedAudio:
    """A recording's cached redacted audio: where it is, its plaintext size and media type, for ranged playback."""

    recording: Recording
    key: str
    size: int
    media_type: str
    spans: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class _Header:
    size: int
    made_from: str
    length: int  # bytes before the ciphertext


def redacted_key(recording: Recording) -> str:
    return f"derived/{recording.id}/redacted.{format_of(recording.container).extension}"


def spans_to_mute(
    segments: Sequence[dict[str, Any]],
    *,
    kinds: Collection[str] | None = None,
    duration_s: float | None = None,
    pad_s: float = PAD_S,
) -> list[tuple[float, float]]:
    """The redactions of `kinds` (default: all) in redacted `segments`, padded, clamped and merged, in time order.

    An untimed redaction already spans its whole segment. Callers that mute leave `duration_s` out: a probed
    duration a few samples short must not leave the last word audible.
    """
    spans: list[tuple[float, float]] = []
    for redaction in redactions_of(segments):
        if kinds is not None and redaction.kind not in kinds:
            continue
        start = max(0.0, redaction.start_s - pad_s)
        end = redaction.end_s + pad_s
        if duration_s is not None:
            end = min(end, duration_s)
        if end > start:
            spans.append((round(start, 3), round(end, 3)))
    merged: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def redacted_audio(
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    *,
    actor: Actor,
    recording_id: str,
    ffmpeg: str,
    tone: bool,
    range_start: int | None = None,
    download: bool = False,
    audited: bool = True,
    cache: bool = True,
) -> RedactedAudio:
    """The redacted audio of a recording `actor` may see, built and cached on first use (`cache` False: built to
    be measured and not stored, as `ensure_redacted` says).

    Audited as `recording.played_redacted` (or `recording.downloaded_redacted`) once per playback: only the
    request that starts at the beginning counts. `audited` False: the caller audits what it serves itself
    (`record_redacted_served`, for ranged answers), or nothing was served (HEAD).
    """
    recording = get_playable_recording(session, actor=actor, recording_id=recording_id)
    audio = ensure_redacted(session, store, envelope, recording=recording, ffmpeg=ffmpeg, tone=tone, cache=cache)
    if audited and (download or not range_start):
        record_event(
            session,
            actor=actor,
            action="recording.downloaded_redacted" if download else "recording.played_redacted",
            object_type="recording",
            object_id=recording.id,
            details={"range_start": range_start or 0, "spans": len(audio.spans)},
        )
    return audio


def record_redacted_served(session: Session, *, actor: Actor, audio: RedactedAudio, start: int, stop: int) -> None:
    """Audit bytes `start` to `stop` (exclusive) of the redacted audio leaving for `actor` as
    `recording.played_redacted`, as the original's plays are (`playback.record_served`): counting only answers
    that start at the first byte let `Range: bytes=1-` carry the whole call away unaudited."""
    record_served(
        session,
        actor=actor,
        recording_id=audio.recording.id,
        action="recording.played_redacted",
        start=start,
        stop=stop,
        size=audio.size,
        extra={"spans": len(audio.spans)},
    )


def ensure_redacted(
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    *,
    recording: Recording,
    ffmpeg: str,
    tone: bool,
    cache: bool = True,
) -> RedactedAudio:
    """The redacted audio of a recording already loaded for its actor, built when missing or stale; not audited:
    the caller audits what it does with it (a playback, a training clip).

    `cache` False, for a caller that commits nothing and reads no byte (a HEAD): a copy built to learn its size is not
    stored, nor a stale one deleted. Stored, it outlived the rolled-back row naming its version, and the retention
    sweep, which deletes derivatives by those rows, left it to the proof after it."""
    spans = spans_to_mute(_twin(session, recording))
    made_from = _made_from(recording, spans=spans, tone=tone)
    key = redacted_key(recording)
    header = _current_header(store, key=key, made_from=made_from)
    if header is None:
        started = time.monotonic()
        header = _build(
            session,
            store,
            envelope,
            recording=recording,
            key=key,
            spans=spans,
            tone=tone,
            made_from=made_from,
            ffmpeg=ffmpeg,
            store_copy=cache,
        )
        log.info(
            "redacted audio built",
            extra={"recording": recording.id, "spans": len(spans), "wall_s": round(time.monotonic() - started, 3)},
        )
    return RedactedAudio(
        recording=recording,
        key=key,
        size=header.size,
        media_type=format_of(recording.container).media_type,
        spans=tuple(spans),
    )


def open_redacted(store: ObjectStore, envelope: Envelope, audio: RedactedAudio) -> PlaintextReader:
    """The redacted audio's plaintext as a stream, authenticated segment by segment while it is read."""
    body = store.get(audio.key)
    try:
        header = _parse_header(_read_exactly(body, _LENGTH.size), body)
        return envelope.decrypting_stream(
            body,
            wrapped=audio.recording.wrapped_data_key,
            object_id=audio.recording.id,
            derived_id=_derived_id(audio.recording.id, header.made_from),
        )
    except BaseException:
        body.close()
        raise


def redacted_bytes(
    store: ObjectStore, envelope: Envelope, audio: RedactedAudio, *, start: int, stop: int
) -> Iterator[bytes]:
    """Plaintext bytes `start` (inclusive) to `stop` (exclusive) of the redacted audio, in chunks."""
    with open_redacted(store, envelope, audio) as plaintext:
        yield from plaintext_range(plaintext, start=start, stop=stop)


def _twin(session: Session, recording: Recording) -> list[dict[str, Any]]:
    transcript = session.scalar(select(Transcript).where(Transcript.recording_id == recording.id))
    twin = twin_of(session, transcript) if transcript is not None else None
    if twin is None:
        raise TranscriptRequired(
            f"recording {recording.id} has no redacted transcript yet: redacted audio needs the transcript first"
        )
    return twin


def _made_from(recording: Recording, *, spans: list[tuple[float, float]], tone: bool) -> str:
    """What the copy is made from: a changed original, transcript or setting makes another copy."""
    basis = json.dumps({"original": recording.sha256, "spans": spans, "tone": tone}, separators=(",", ":"))
    return hashlib.sha256(basis.encode()).hexdigest()[:32]


def _derived_id(recording_id: str, made_from: str) -> str:
    return f"{recording_id}/redacted/{made_from}"


def _current_header(store: ObjectStore, *, key: str, made_from: str) -> _Header | None:
    """The cached copy's header when it exists and was made from `made_from`; None means build it."""
    try:
        head = store.get_range(key, 0, _HEADER_PROBE - 1)
    except NotFound:
        return None
    try:
        (length,) = _LENGTH.unpack_from(head)
        header = _decode_header(head[_LENGTH.size : _LENGTH.size + length], length=length)
    except (struct.error, ValueError, KeyError, TypeError):
        return None  # not a copy this code wrote (or cut short): rebuild over it
    return header if header.made_from == made_from else None


def _parse_header(prefix: bytes, body: BinaryIO) -> _Header:
    (length,) = _LENGTH.unpack(prefix)
    try:
        return _decode_header(_read_exactly(body, length), length=length)
    except (ValueError, KeyError, TypeError):
        raise DecryptionFailed("the redacted audio's header is unreadable") from None


def _decode_header(raw: bytes, *, length: int) -> _Header:
    if len(raw) != length:
        raise ValueError("short header")
    fields = json.loads(raw)
    if fields["version"] != HEADER_VERSION:
        raise ValueError("unknown header version")
    return _Header(
        size=int(fields["size"]),
        made_from=str(fields["made_from"]),
        length=_LENGTH.size + length,
    )


def _encode_header(*, size: int, made_from: str) -> bytes:
    fields = {
        "version": HEADER_VERSION,
        "size": size,
        "made_from": made_from,
    }
    raw = json.dumps(fields, separators=(",", ":")).encode()
    return _LENGTH.pack(len(raw)) + raw


def _exists(store: ObjectStore, key: str) -> bool:
    try:
        store.head(key)
    except NotFound:
        return False
    return True


def _read_exactly(body: BinaryIO, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = body.read(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _build(
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    *,
    recording: Recording,
    key: str,
    spans: list[tuple[float, float]],
    tone: bool,
    made_from: str,
    ffmpeg: str,
    store_copy: bool,
) -> _Header:
    """Decrypt the original into a private temporary directory, mute it, then (if `store_copy`) encrypt the copy and
    store it. The header says the copy's size either way."""
    extension = format_of(recording.container).extension
    with scratch_dir("redact") as scratch:
        original, muted = scratch / f"original.{extension}", scratch / f"redacted.{extension}"
        sealed, packed = scratch / "sealed", scratch / "packed"
        with open_original(store, envelope, recording) as plaintext, original.open("wb") as out:
            shutil.copyfileobj(plaintext, out)  # type: ignore[misc]
        mute_spans(original, muted, spans=spans, ffmpeg=ffmpeg, tone_hz=TONE_HZ if tone else None)
        header = _encode_header(size=muted.stat().st_size, made_from=made_from)
        if store_copy:
            with muted.open("rb") as source, sealed.open("wb") as destination:
                envelope.encrypt_derived(
                    source,
                    destination,
                    wrapped=recording.wrapped_data_key,
                    object_id=recording.id,
                    derived_id=_derived_id(recording.id, made_from),
                )
            with packed.open("wb") as out, sealed.open("rb") as ciphertext:
                out.write(header)
                shutil.copyfileobj(ciphertext, out)
            if _exists(store, key):
                # A stale copy's versions would stay readable with the master key; they go before the new one.
                delete_derived(session, store, recording_id=recording.id, keys=[key])
            with packed.open("rb") as body:
                put_derived(session, store, recording=recording, key=key, body=body)
    return _decode_header(header[_LENGTH.size :], length=len(header) - _LENGTH.size)
