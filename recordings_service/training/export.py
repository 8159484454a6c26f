"""Exporting a training set: a download valid 7 days of a ZIP with the clips (Ogg/Opus and MP3), their redacted
transcripts, `set.json`, and an `index.html` that plays the clips in order, offline, with the transcript
following.

The ZIP is not stored. Each download assembles it from the clips as they are then, streamed with bounded
memory (one clip's chunk at a time): a clip whose call was deleted since (retention, erasure) or may no
longer be used for training is left out and listed as such, and no copy of a clip ever exists outside its
call's `derived/` prefix, so nothing here can outlive a recording's retention. Clips are small encoded
audio, so assembling on request costs about what sending them does; a leased build job would add a stored
copy with a lifetime of its own to purge.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event, record_events
from recordings_service.db import utcnow
from recordings_service.errors import Conflict, NotFound
from recordings_service.models import Recording, TrainingClip, TrainingExport
from recordings_service.storage.encryption import CHUNK, Envelope
from recordings_service.storage.object_store import ObjectStore
from recordings_service.training.clip_views import (
    ClipAudio,
    ClipStatus,
    ClipView,
    describe_clips,
    open_clip,
    stored_audio,
)
from recordings_service.training.export_page import ENGLISH, PageWords, index_html
from recordings_service.training.sets import load_set
from recordings_service.training_rules import TrainingRules
from recordings_service.zip_dates import dated_entry

VALID_FOR = timedelta(days=7)


class ExportExpired(Conflict):
    code = "export_expired"


@dataclass(frozen=True)
class ExportEntry:
    """One place of the exported set: the clip's view, and its audio when it goes into the ZIP."""

    number: int
    view: ClipView | None  # None: the clip was deleted from the library
    opus: ClipAudio | None
    mp3: ClipAudio | None

    @property
    def included(self) -> bool:
        return self.opus is not None and self.mp3 is not None

    def files(self) -> dict[str, str]:
        if not self.included:
            return {}
        stem = f"{self.number:02d}"
        return {"opus": f"clips/{stem}.ogg", "mp3": f"clips/{stem}.mp3", "transcript": f"transcripts/{stem}.txt"}


@dataclass(frozen=True)
class ExportContents:
    export: TrainingExport
    title: str
    description: str
    entries: list[ExportEntry]


def export_set(session: Session, *, actor: Actor, set_id: str, now: datetime | None = None) -> TrainingExport:
    """Open a 7-day download of the set as it stands; audited as `training.set_exported`."""
    training_set = load_set(session, actor=actor, set_id=set_id)
    moment = now or utcnow()
    export = TrainingExport(
        set_id=training_set.id,
        title=training_set.title,
        clip_ids=[item.clip_id for item in training_set.items],
        created_by=actor.id,
        created_at=moment,
        expires_at=moment + VALID_FOR,
    )
    session.add(export)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="training.set_exported",
        object_type="training_set",
        object_id=training_set.id,
        details={"export_id": export.id, "clips": len(export.clip_ids), "expires_at": export.expires_at.isoformat()},
    )
    return export


def get_export(session: Session, *, actor: Actor, export_id: str) -> TrainingExport:
    """An export of a set `actor` may see (its own, or a shared one)."""
    export = session.get(TrainingExport, export_id)
    if export is None:
        raise NotFound(f"export {export_id} not found", why="export_not_found")
    try:
        load_set(session, actor=actor, set_id=export.set_id)
    except NotFound as hidden:
        # The refusal names the export asked for, never the private set behind it (audited as the set's refusal).
        raise NotFound(f"export {export_id} not found", why="export_not_found", refusal=hidden.refusal) from None
    return export


def open_export(
    session: Session,
    envelope: Envelope,
    *,
    actor: Actor,
    export_id: str,
    rules: TrainingRules,
    now: datetime | None = None,
) -> ExportContents:
    """What a download of the export holds now, while it is valid; counted and audited as
    `training.export_downloaded`, and each clip in it as `training.clip_downloaded` against its call. Stream it
    with `zip_chunks` after the caller commits."""
    export = get_export(session, actor=actor, export_id=export_id)
    moment = now or utcnow()
    if export.expires_at <= moment:
        raise ExportExpired(f"export {export_id} expired at {export.expires_at.isoformat()}; export the set again")
    training_set = load_set(session, actor=actor, set_id=export.set_id)
    clips = {
        clip.id: clip for clip in session.scalars(select(TrainingClip).where(TrainingClip.id.in_(export.clip_ids)))
    }
    present = [clips[clip_id] for clip_id in export.clip_ids if clip_id in clips]
    views = {view.clip.id: view for view in describe_clips(session, envelope, actor=actor, clips=present, rules=rules)}
    recordings = {
        recording.id: recording
        for recording in session.scalars(select(Recording).where(Recording.id.in_({c.recording_id for c in present})))
    }
    entries = []
    for number, clip_id in enumerate(export.clip_ids, start=1):
        view = views.get(clip_id)
        playable = view is not None and view.status is ClipStatus.AVAILABLE
        opus = stored_audio(view.clip, recordings[view.clip.recording_id], "opus") if playable and view else None
        mp3 = stored_audio(view.clip, recordings[view.clip.recording_id], "mp3") if playable and view else None
        entries.append(ExportEntry(number=number, view=view, opus=opus, mp3=mp3))
    export.downloads += 1
    export.last_download_at = moment
    session.flush()
    record_event(
        session,
        actor=actor,
        action="training.export_downloaded",
        object_type="training_set",
        object_id=export.set_id,
        details={
            "export_id": export.id,
            "clips": len(entries),
            "included": sum(entry.included for entry in entries),
            "recording_ids": sorted({entry.opus.recording_id for entry in entries if entry.opus}),
        },
    )
    # Each clip that goes out (its audio and redacted transcript) is in its call's trail too, as a clip played in a
    # set is: the trail is searched by the call.
    record_events(
        session,
        actor=actor,
        action="training.clip_downloaded",
        object_type="recording",
        items=[
            (entry.view.clip.recording_id, {"clip_id": entry.view.clip.id, "export_id": export.id})
            for entry in entries
            if entry.included and entry.view is not None
        ],
    )
    return ExportContents(
        export=export, title=training_set.title, description=training_set.description, entries=entries
    )


def zip_chunks(
    store: ObjectStore,
    envelope: Envelope,
    contents: ExportContents,
    *,
    zone: tzinfo = UTC,
    words: PageWords = ENGLISH,
) -> Iterator[bytes]:
    """The export's ZIP, written as it is sent: each clip decrypted chunk by chunk straight into the archive. Its
    files are dated, and its page says when it was exported, in `zone` (the organisation's time: a ZIP's dates
    have no time zone, and unpacked in Helsinki a UTC time was two hours early); `set.json` keeps UTC. The page
    is in `words`' language (the reader's, which the web layer gives)."""
    exported = contents.export.created_at.astimezone(zone)
    sink = _Sink()
    with zipfile.ZipFile(sink, "w") as archive:
        for entry in contents.entries:
            files = entry.files()
            if not files or entry.view is None or entry.opus is None or entry.mp3 is None:
                continue
            for audio, name in ((entry.opus, files["opus"]), (entry.mp3, files["mp3"])):
                info = dated_entry(name, exported, zone, compress_type=zipfile.ZIP_STORED)  # encoded: no compressing
                with open_clip(store, envelope, audio) as plaintext, archive.open(info, "w") as out:
                    while chunk := plaintext.read(CHUNK):
                        out.write(chunk)
                        yield from sink.drain()
            _write_text(archive, files["transcript"], _transcript_text(entry.view, words), exported, zone)
            yield from sink.drain()
        _write_text(archive, "set.json", json.dumps(manifest(contents), indent=2, ensure_ascii=False), exported, zone)
        page = index_html(contents.title, contents.description, manifest(contents), exported=exported, words=words)
        _write_text(archive, "index.html", page, exported, zone)
    yield from sink.drain()


def manifest(contents: ExportContents) -> dict[str, Any]:
    """What `set.json` and `index.html` say about the set: no call ids, customers or agent refs."""
    places = []
    for entry in contents.entries:
        view = entry.view
        place: dict[str, Any] = {
            "number": entry.number,
            "status": view.status.value if view is not None else "deleted",
            "reason": view.reason if view is not None else None,
        }
        if view is not None and entry.included:
            place.update(
                title=view.clip.title,
                tags=list(view.clip.tags),
                notes=view.clip.notes,
                agent=view.agent,
                duration_s=view.duration_s,
                files=entry.files(),
                transcript=view.transcript,
            )
        places.append(place)
    return {
        "title": contents.title,
        "description": contents.description,
        # To the second: the microseconds' digit runs read as phone numbers to a PII scan of the export.
        "exported_at": contents.export.created_at.replace(microsecond=0).isoformat(),
        "clips": places,
    }


def _transcript_text(view: ClipView, words: PageWords) -> str:
    """The clip's transcript as text, its speakers named in the reader's language as the export's page names them."""
    lines = [
        f"[{_clock(line['start'])}] {words.speaker(str(line['speaker']))}: {line['text']}" for line in view.transcript
    ]
    return f"{view.clip.title}\n\n" + "\n".join(lines) + "\n"


def _clock(seconds: float) -> str:
    """Time in the clip as the transcripts' text format writes it (HH:MM:SS.mmm)."""
    minutes, rest = divmod(round(seconds * 1000), 60_000)
    return f"{minutes // 60:02d}:{minutes % 60:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def _write_text(archive: zipfile.ZipFile, name: str, text: str, moment: datetime, zone: tzinfo) -> None:
    archive.writestr(dated_entry(name, moment, zone, compress_type=zipfile.ZIP_DEFLATED), text.encode())


class _Sink:
    """A write-only, unseekable file for `zipfile`: what it writes is collected until drained."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None

    def drain(self) -> list[bytes]:
        """What was written since the last drain, as one chunk (none when nothing was)."""
        data = b"".join(self._parts)
        self._parts.clear()
        return [data] if data else []
