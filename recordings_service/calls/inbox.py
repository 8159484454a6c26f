"""The drop-folder inbox: audio files with JSON sidecars (`<name>.wav.json` or `<name>.json`) holding the metadata.

A pair is taken once both files have been still for `inbox_min_age_s` (writers may still be copying);
imported pairs move to `done/`, refused ones to `failed/` beside a `<name>.error.json` saying why.
Hidden files (a writer's `.partial` names) are ignored. Importing a pair again is a no-op.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.calls.ingest import IngestResult, ingest_recording, parse_metadata
from recordings_service.config import Settings
from recordings_service.errors import DomainError
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore

logger = logging.getLogger(__name__)

INBOX_ACTOR = Actor(id=None, name="inbox", role="system")
SIDECAR = ".json"
ERROR_SUFFIX = ".error.json"


@dataclass(frozen=True)
class InboxPair:
    audio: Path
    sidecar: Path


@dataclass(frozen=True)
class InboxScan:
    ready: list[InboxPair]
    waiting: int


def inbox_dir(settings: Settings) -> Path:
    return Path(settings.inbox_dir) if settings.inbox_dir else settings.data_dir / "inbox"


def scan_inbox(settings: Settings, *, now: datetime) -> InboxScan:
    """Pairs ready to import, oldest first, and how many files wait (too young, or without a partner)."""
    root = inbox_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    entries = {entry.name: entry for entry in os.scandir(root) if entry.is_file() and not entry.name.startswith(".")}
    ready: list[tuple[float, InboxPair]] = []
    waiting = 0
    for name, entry in entries.items():
        if name.endswith(SIDECAR):
            if not _audio_names(entries, name):
                waiting += 1  # its audio may still be on the way
            continue
        sidecar = _sidecar_of(entries, name)
        if sidecar is None:
            waiting += 1
            continue
        newest = max(entry.stat().st_mtime, sidecar.stat().st_mtime)
        if now.timestamp() - newest < settings.inbox_min_age_s:
            waiting += 1
            continue
        ready.append((newest, InboxPair(audio=Path(entry.path), sidecar=Path(sidecar.path))))
    ready.sort(key=lambda item: item[0])
    return InboxScan(ready=[pair for _, pair in ready], waiting=waiting)


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
    """Ingest one pair; the caller commits, then files it with `settle_pair`."""
    metadata = parse_metadata(pair.sidecar.read_bytes())
    return ingest_recording(
        session, store, envelope, settings=settings, actor=INBOX_ACTOR, audio_path=pair.audio, metadata=metadata
    )


def settle_pair(settings: Settings, pair: InboxPair, *, refusal: DomainError | None = None) -> None:
    """Move the pair to `done/`, or to `failed/` with the reason beside it."""
    target = inbox_dir(settings) / ("failed" if refusal else "done")
    target.mkdir(exist_ok=True)
    if refusal is not None:
        reason = {"error": refusal.code, "field": getattr(refusal, "field", None), "message": refusal.message}
        (target / (pair.audio.name + ERROR_SUFFIX)).write_text(json.dumps(reason, indent=2) + "\n")
    pair.audio.replace(target / pair.audio.name)
    pair.sidecar.replace(target / pair.sidecar.name)
