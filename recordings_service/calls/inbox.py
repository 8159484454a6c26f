"""The drop-folder inbox: audio files with JSON sidecars (`<name>.wav.json` or `<name>.json`) holding the metadata.

A pair is taken once both files have been still for `inbox_min_age_s` (writers may still be copying);
imported pairs move to `done/`, refused ones to `failed/` beside a `<name>.error.json` saying why.
Hidden files (a writer's `.partial` names) are ignored. Importing a pair again is a no-op.

Whoever may write to the inbox must not make the importer read anything else: each file is opened once
without following a symbolic link (a link, say to another user's file, is refused and filed under
`failed/` unread), the sidecar is read only up to the metadata limit, and the audio is copied once into
a private spool file that is then hashed, probed, encrypted and stored, so swapping the drop file
midway changes nothing.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.calls.ingest import MAX_METADATA_BYTES, IngestResult, ingest_recording, parse_metadata
from recordings_service.config import Settings
from recordings_service.errors import DomainError, Invalid
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from recordings_service.storage.spool import CHUNK, Spool, spool_dir

logger = logging.getLogger(__name__)

INBOX_ACTOR = Actor(id=None, name="inbox", role="system")
SIDECAR = ".json"
ERROR_SUFFIX = ".error.json"
# A file whose partner has not arrived in this long is filed under failed/ with the reason: left waiting, nobody
# would learn that the call was never imported (the log's waiting count was the only trace).
ORPHAN_AFTER_S = 24 * 3600


@dataclass(frozen=True)
class InboxPair:
    audio: Path
    sidecar: Path


@dataclass(frozen=True)
class InboxScan:
    ready: list[InboxPair]
    waiting: int
    orphans: list[Path]  # files whose partner has not come within ORPHAN_AFTER_S


def inbox_dir(settings: Settings) -> Path:
    return Path(settings.inbox_dir) if settings.inbox_dir else settings.data_dir / "inbox"


def scan_inbox(settings: Settings, *, now: datetime) -> InboxScan:
    """Pairs ready to import, oldest first; how many files wait (too young, or without a partner yet); and the
    files whose partner has not come within a day."""
    root = inbox_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    # Symbolic links are listed (and later refused), never followed, not even to read their target's age.
    entries = {
        entry.name: entry
        for entry in os.scandir(root)
        if (entry.is_file(follow_symlinks=False) or entry.is_symlink()) and not entry.name.startswith(".")
    }
    ready: list[tuple[float, InboxPair]] = []
    waiting = 0
    orphans = []
    for name, entry in entries.items():
        is_sidecar = name.endswith(SIDECAR)
        sidecar = None if is_sidecar else _sidecar_of(entries, name)
        if (not _audio_names(entries, name)) if is_sidecar else sidecar is None:
            if now.timestamp() - entry.stat(follow_symlinks=False).st_mtime >= ORPHAN_AFTER_S:
                orphans.append(Path(entry.path))
            else:
                waiting += 1  # its partner may still be on the way
            continue
        if sidecar is None:
            continue  # a sidecar: taken with its audio
        newest = max(entry.stat(follow_symlinks=False).st_mtime, sidecar.stat(follow_symlinks=False).st_mtime)
        if now.timestamp() - newest < settings.inbox_min_age_s:
            waiting += 1
            continue
        ready.append((newest, InboxPair(audio=Path(entry.path), sidecar=Path(sidecar.path))))
    ready.sort(key=lambda item: item[0])
    return InboxScan(ready=[pair for _, pair in ready], waiting=waiting, orphans=sorted(orphans))


def _audio_names(entries: dict[str, os.DirEntry[str]], sidecar: str) -> list[str]:
    """The audio files a sidecar may describe: `a.wav` for `a.wav.json`, else every `a.*` for `a.json`."""
    full = sidecar.removesuffix(SIDECAR)
    if full in entries:
        return [full]
    return [name for name in entries if not name.endswith(SIDECAR) and Path(name).stem == full]


def _sidecar_of(entries: dict[str, os.DirEntry[str]], audio: str) -> os.DirEntry[str] | None:
    """`a.wav.json`, else `a.json` when no other audio file shares the stem (it would be ambiguous)."""
    full = entries.get(audio + SIDECAR)
    if full is not None:
        return full
    short = entries.get(Path(audio).stem + SIDECAR)
    if short is None or Path(audio).suffix == "" or _audio_names(entries, short.name) != [audio]:
        return None
    return short


def import_pair(
    session: Session, store: ObjectStore, envelope: Envelope, *, settings: Settings, pair: InboxPair
) -> IngestResult:
    """Ingest one pair from a private copy of its audio; the caller commits, then files it with `settle_pair`."""
    with _open_dropped(pair.sidecar, field="metadata") as sidecar:
        # One byte past the limit is enough for `parse_metadata` to refuse a larger file.
        metadata = parse_metadata(sidecar.read(MAX_METADATA_BYTES + 1))
    spool = Spool(spool_dir(settings), max_bytes=settings.max_upload_bytes)
    try:
        with _open_dropped(pair.audio, field="audio") as audio:
            while chunk := audio.read(CHUNK):
                spool.write(chunk)
        spool.flush()
        return ingest_recording(
            session,
            store,
            envelope,
            settings=settings,
            actor=INBOX_ACTOR,
            audio_path=spool.path,
            metadata=metadata,
            sha256=spool.sha256,
        )
    finally:
        spool.discard()


def _open_dropped(path: Path, *, field: str) -> BinaryIO:
    """`path` opened for reading if it is a regular file itself, not a link to one (nor a FIFO, which
    `O_NONBLOCK` keeps from stalling the open when one is swapped in after the scan)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        raise Invalid(field, "the inbox file is a symbolic link; drop the file itself", code="symlink") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise Invalid(field, "the inbox entry is not a regular file", code="not_a_file")
    return os.fdopen(fd, "rb")


def settle_orphan(settings: Settings, path: Path) -> None:
    """File a file whose partner never came under `failed/`, with the reason beside it."""
    sidecar = path.name.endswith(SIDECAR)
    field, missing = ("audio", "audio file") if sidecar else ("metadata", f"metadata sidecar ({path.name}{SIDECAR})")
    hours = ORPHAN_AFTER_S // 3600
    message = f"no {missing} arrived within {hours} hours; drop both again to import the call"
    _file(settings, path, Invalid(field, message, code="no_partner"))


def settle_pair(settings: Settings, pair: InboxPair, *, refusal: DomainError | None = None) -> None:
    """Move the pair to `done/`, or to `failed/` with the reason beside it."""
    target = _file(settings, pair.audio, refusal)
    pair.sidecar.replace(target / pair.sidecar.name)


def _file(settings: Settings, path: Path, refusal: DomainError | None) -> Path:
    """Move `path` to `done/`, or to `failed/` with the refusal beside it; the folder it went to."""
    target = inbox_dir(settings) / ("failed" if refusal else "done")
    target.mkdir(exist_ok=True)
    if refusal is not None:
        reason = {"error": refusal.code, "field": getattr(refusal, "field", None), "message": refusal.message}
        (target / (path.name + ERROR_SUFFIX)).write_text(json.dumps(reason, indent=2) + "\n")
    path.replace(target / path.name)
    return target
