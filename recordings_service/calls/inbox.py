"""The drop-folder inbox: audio files with JSON sidecars (`<name>.wav.json` or `<name>.json`) holding the metadata.

A pair is taken once both files have been still for `inbox_min_age_s` (writers may still be copying);
imported pairs move to `done/`, refused ones to `failed/` beside a `<name>.error.json` saying why.
Hidden files (a writer's `.partial` names) are ignored. Importing a pair again is a no-op. A sidecar `a.json`
that fits two audio files (`a.wav`, `a.mp3`) is filed under `failed/` saying so. A name already filed
under `done/` or `failed/` (an earlier drop of `call1.wav`) is filed as `call1~1.wav`, never over the earlier one.
Jobs processes on one machine share the inbox: each item is imported or filed holding the inbox's lock, and one
that another process took meanwhile is passed over.

Whoever may write to the inbox must not make the importer read anything else: each file is opened once
without following a symbolic link (a link, say to another user's file, is refused and filed under
`failed/` unread), the sidecar is read only up to the metadata limit, and the audio is copied once into
a private spool file that is then hashed, probed, encrypted and stored, so swapping the drop file
midway changes nothing.
"""

from __future__ import annotations

import errno
import fcntl
import itertools
import json
import logging
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
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
class AmbiguousSidecar:
    """`a.json` beside more than one audio file `a.*` without its own sidecar: which call it describes is a guess."""

    path: Path
    audio_names: list[str]


@dataclass(frozen=True)
class InboxScan:
    ready: list[InboxPair]
    waiting: int
    orphans: list[Path]  # files whose partner has not come within ORPHAN_AFTER_S
    ambiguous: list[AmbiguousSidecar]


def inbox_dir(settings: Settings) -> Path:
    return Path(settings.inbox_dir) if settings.inbox_dir else settings.data_dir / "inbox"


def scan_inbox(settings: Settings, *, now: datetime) -> InboxScan:
    """Pairs ready to import, oldest first; how many files wait (too young, or without a partner yet); the
    files whose partner has not come within a day; and the sidecars that fit more than one audio file."""
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
    ambiguous = []
    for name, entry in entries.items():
        is_sidecar = name.endswith(SIDECAR)
        sidecar = None if is_sidecar else _sidecar_of(entries, name)
        described = _audio_names(entries, name) if is_sidecar else []
        if len(described) > 1:
            # Filed with the reason, so the operator renames it; left, it waited unseen beside audio files that
            # were filed a day later as having no sidecar, and then it as having no audio.
            if now.timestamp() - entry.stat(follow_symlinks=False).st_mtime >= settings.inbox_min_age_s:
                ambiguous.append(AmbiguousSidecar(path=Path(entry.path), audio_names=sorted(described)))
            else:
                waiting += 1
            continue
        if (not described) if is_sidecar else sidecar is None:
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
    return InboxScan(ready=[pair for _, pair in ready], waiting=waiting, orphans=sorted(orphans), ambiguous=ambiguous)


@contextmanager
def holding_inbox(settings: Settings) -> Iterator[None]:
    """The inbox to this process alone while it imports or files one item. Without it two jobs processes took the
    same pair from their scans: both probed and stored it, and the second crashed moving what the first had moved,
    leaving the rest of its scan for its next run."""
    fd = os.open(inbox_dir(settings), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def still_ready(settings: Settings, pair: InboxPair, *, now: datetime) -> bool:
    """Whether the scanned pair is still in the inbox, untouched since long enough: another process may have
    filed it since the scan, or the operator taken it back or dropped a new file under its name."""
    try:
        newest = max(path.lstat().st_mtime for path in (pair.audio, pair.sidecar))
    except FileNotFoundError:
        return False
    return now.timestamp() - newest >= settings.inbox_min_age_s


def _audio_names(entries: dict[str, os.DirEntry[str]], sidecar: str) -> list[str]:
    """The audio files a sidecar may describe: `a.wav` for `a.wav.json`, else every `a.*` for `a.json` but those
    with a sidecar of their own."""
    full = sidecar.removesuffix(SIDECAR)
    if full in entries:
        return [full]
    return [
        name
        for name in entries
        if not name.endswith(SIDECAR) and Path(name).stem == full and name + SIDECAR not in entries
    ]


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
        if exc.errno == errno.ELOOP:
            raise Invalid(field, "the inbox file is a symbolic link; drop the file itself", code="symlink") from None
        # Filed with the reason rather than raised: raised, it stopped the run at this pair, oldest first, every run,
        # so that no later drop was imported either (and the log named the file).
        reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__
        message = f"the inbox file cannot be read ({reason}); make it readable to the jobs process and drop it again"
        raise Invalid(field, message, code="unreadable") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise Invalid(field, "the inbox entry is not a regular file", code="not_a_file")
    return os.fdopen(fd, "rb")


def settle_orphan(settings: Settings, path: Path) -> bool:
    """File a file whose partner never came under `failed/`, with the reason beside it; False when it is gone."""
    if not os.path.lexists(path):
        return False  # another jobs process filed it since the scan
    sidecar = path.name.endswith(SIDECAR)
    field, missing = ("audio", "audio file") if sidecar else ("metadata", f"metadata sidecar ({path.name}{SIDECAR})")
    hours = ORPHAN_AFTER_S // 3600
    message = f"no {missing} arrived within {hours} hours; drop both again to import the call"
    _file(settings, [path], Invalid(field, message, code="no_partner"))
    return True


def settle_ambiguous(settings: Settings, sidecar: AmbiguousSidecar) -> bool:
    """File a sidecar that fits several audio files under `failed/`, saying which; False when it is gone. The audio
    files wait for sidecars named after them."""
    if not os.path.lexists(sidecar.path):
        return False  # another jobs process filed it since the scan
    fits = " and ".join(sidecar.audio_names)
    message = (
        f"{sidecar.path.name} fits {fits}: name each sidecar after its audio file "
        f"({sidecar.audio_names[0]}{SIDECAR}) and drop it again"
    )
    _file(settings, [sidecar.path], Invalid("metadata", message, code="ambiguous_sidecar"))
    return True


def settle_pair(settings: Settings, pair: InboxPair, *, refusal: DomainError | None = None) -> None:
    """Move the pair to `done/`, or to `failed/` with the reason beside it."""
    _file(settings, [pair.audio, pair.sidecar], refusal)


def _file(settings: Settings, paths: list[Path], refusal: DomainError | None) -> None:
    """Move `paths` (an audio file first, then its sidecar) to `done/`, or to `failed/` with the refusal beside the
    first, under names that no earlier drop filed there has."""
    target = inbox_dir(settings) / ("failed" if refusal else "done")
    target.mkdir(exist_ok=True)
    names = _free_names(target, [path.name for path in paths])
    if refusal is not None:
        (target / (names[0] + ERROR_SUFFIX)).write_text(json.dumps(_reason(refusal), indent=2) + "\n")
    for path, name in zip(paths, names, strict=True):
        path.replace(target / name)


def _reason(refusal: DomainError) -> dict[str, object]:
    """The refusal as the API answers it: every invalid field of a sidecar, not only the first, so that the operator
    fixes them all before dropping the pair again."""
    reason: dict[str, object] = {"error": refusal.code, "field": refusal.field, "message": refusal.message}
    if isinstance(refusal, Invalid) and refusal.errors:
        reason["errors"] = [
            {"field": each.field, "error": each.code, "message": each.message} for each in refusal.errors
        ]
    return reason


def _free_names(target: Path, names: list[str]) -> list[str]:
    """`names` as they are, or each with `~N` after the first one's stem (`a.wav`, `a.wav.json` → `a~1.wav`,
    `a~1.wav.json`) where `target` already holds one of them or the first's error file: an operator's names repeat
    (`call1.wav` every day), and a replace overwrote the earlier drop, in `failed/` a call never imported."""
    first = Path(names[0])
    stem = first.name.removesuffix(first.suffix)
    candidates = (names if n == 0 else [f"{stem}~{n}{name[len(stem) :]}" for name in names] for n in itertools.count())
    return next(
        filed
        for filed in candidates
        if not any(os.path.lexists(target / name) for name in [*filed, filed[0] + ERROR_SUFFIX])
    )
