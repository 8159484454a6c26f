"""The drop-folder inbox: audio files with JSON sidecars (`<name>.wav.json` or `<name>.json`) holding the metadata.

A pair is taken once both files have been still for `inbox_min_age_s` (writers may still be copying); extensions are
matched in any case (`CALL1.WAV` with `CALL1.JSON`), the rest of a name exactly but for its Unicode form (a Mac's
copy writes `ä` decomposed). Imported pairs move to `done/` beside a `<name>.receipt.json` naming the recording,
refused ones to `failed/` beside a `<name>.error.json` saying why (a call that may not be kept at all leaves its
note alone there, `inbox_filing.NOT_TO_BE_KEPT`; both folders are emptied by `inbox_purge`). Only regular files (and
links, to be refused) are drops: hidden files (a writer's `.partial` names), folders and the importer's own notes
(an `.error.json` or `.receipt.json` moved back with the item it describes, removed when the item is filed again)
are not; a note left without its item is filed under `failed/` a day after it came. Importing a pair again is a
no-op. A sidecar `a.json` that fits two audio files (`a.wav`, `a.mp3`), an audio file with two sidecars
(`a.wav.json` beside `a.wav.JSON` or `a.json`), and an `a.json` beside several audio files `a.*` that each have
their own (imported with them) are filed under `failed/` at once, saying so. A file named `done` or `failed` is no
drop: it is left where it is, and the job warns of it. An inbox that cannot be listed or locked stops the run. An
item whose files cannot all be moved (one the jobs process may not move) stays whole in the inbox for the next run,
those moved already moved back; one that fails unexpectedly run after run is filed under `failed/`
(`inbox_attempts`). A name already filed under `done/` or `failed/` (an earlier drop of `call1.wav`) is filed as
`call1~1.wav`, never over the earlier one. Jobs processes on one machine share the inbox: each item is imported or
filed holding the inbox's lock, and one that another process took meanwhile is passed over.

Whoever may write to the inbox must not make the importer read anything else: each file is opened once
without following a symbolic link (a link, say to another user's file, is refused and filed under
`failed/` unread), the sidecar is read only up to the metadata limit, and the audio is copied once into
a private spool file that is then hashed, probed, encrypted and stored, so swapping the drop file
midway changes nothing.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import stat
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.calls.inbox_names import DropNames, is_sidecar
from recordings_service.calls.ingest import (
    MAX_METADATA_BYTES,
    UTF8_BOM,
    IngestResult,
    ingest_recording,
    parse_metadata,
)
from recordings_service.config import Settings
from recordings_service.errors import FieldError, Invalid
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from recordings_service.storage.spool import CHUNK, Spool, spool_dir
from recordings_service.utf8_text import not_utf8_at

logger = logging.getLogger(__name__)

INBOX_ACTOR = Actor(id=None, name="inbox", role="system")
ERROR_SUFFIX = ".error.json"
RECEIPT_SUFFIX = ".receipt.json"
# A file whose partner has not come within this long of its own arrival is filed under failed/ with the reason: left
# waiting, nobody would learn that the call was never imported (the log's waiting count was the only trace).
ORPHAN_AFTER_S = 24 * 3600
# A file as the kernel knows it (device, inode), and as written (size, modification): the same under any name it is
# renamed to, another for a file renamed into its place or written over in place (`cp new call1.wav`).
FileIdentity = tuple[int, int, int, int]
FOLDERS = ("done", "failed")  # where items are filed, in the inbox itself


@dataclass(frozen=True)
class InboxPair:
    audio: Path
    sidecar: Path


@dataclass(frozen=True)
class AmbiguousSidecar:
    """`a.json` beside more than one audio file `a.*` without its own sidecar: which call it describes is a guess.
    Or, `described`, beside several that each have their own: none is left for it."""

    path: Path
    audio_names: list[str]
    described: bool = False


@dataclass(frozen=True)
class AmbiguousPair:
    """An audio file with several sidecars named after it (`a.wav.json`, `a.wav.JSON`): which holds its metadata is a
    guess."""

    audio: Path
    sidecars: list[Path]


@dataclass(frozen=True)
class InboxScan:
    ready: list[InboxPair]
    waiting: int
    orphans: list[Path]  # files whose partner has not come within ORPHAN_AFTER_S
    ambiguous: list[AmbiguousSidecar]
    ambiguous_pairs: list[AmbiguousPair]
    stray_notes: list[Path]  # the importer's notes whose item has not been beside them within ORPHAN_AFTER_S
    notes: dict[str, list[Path]]  # by the name of the item beside them, the importer's notes in any letter case
    not_folders: list[str]  # those of FOLDERS that another kind of entry (a file) has taken the name of
    # Folders of the operator's (a day's calls copied in as a folder): never looked into, so said in the log.
    subfolders: int

    def notes_of(self, *files: Path) -> list[Path]:
        """The importer's notes on any of an item's files (an audio file's, and a sidecar's filed alone earlier)."""
        return [note for each in files for note in self.notes.get(each.name, [])]


class InboxUnavailable(Exception):
    """The inbox cannot be listed or its lock taken (the inbox removed, a file, or no folder the jobs process may
    open): no item can be imported. Its message is the errno's name alone: the inbox's path may name the site or
    customer it serves."""


def inbox_dir(settings: Settings) -> Path:
    return Path(settings.inbox_dir) if settings.inbox_dir else settings.data_dir / "inbox"


def scan_inbox(settings: Settings, *, now: datetime) -> InboxScan:
    """Pairs ready to import, oldest first; how many files wait (too young, or without a partner yet); the
    files whose partner has not come within a day; the sidecars that fit more than one audio file, the audio
    files with more than one sidecar, and the importer's notes left a day without their item."""
    root = inbox_dir(settings)
    not_folders, subfolders, mtimes, arrivals = _entries(root)
    notes = [name for name in mtimes if is_note(name)]
    # A note whose item is gone (moved back alone, its audio renamed) was neither counted nor moved, ever.
    strays = [name for name in notes if noted_item(name) not in mtimes]
    notes_by_item = defaultdict(list)
    for name in sorted(set(notes) - set(strays)):
        notes_by_item[noted_item(name)].append(root / name)
    stray_notes = [root / name for name in strays if now.timestamp() - arrivals[name] >= ORPHAN_AFTER_S]
    waiting = len(strays) - len(stray_notes)
    drops = {name: mtime for name, mtime in mtimes.items() if not is_note(name)}
    names = DropNames(drops)
    ready: list[tuple[float, InboxPair]] = []
    orphans = []
    ambiguous = []
    ambiguous_pairs = []
    for name, mtime in drops.items():
        sidecars, described = [], []
        if is_sidecar(name):
            described = names.audio_names(name)
            fits_none = names.fits_none(name)
            if len(described) > 1 or fits_none:
                # Filed with the reason, so the operator renames it; left, it waited unseen beside audio files that
                # were filed a day later as having no sidecar, and then it as having no audio. Beside several that
                # each have their own, it is filed at once too, as `a.json` beside `a.wav` with `a.wav.json` is:
                # left, it was filed a day after they were imported, alone, as one whose audio never arrived.
                if now.timestamp() - mtime >= settings.inbox_min_age_s:
                    fits = sorted(described or fits_none)
                    ambiguous.append(AmbiguousSidecar(path=root / name, audio_names=fits, described=not described))
                else:
                    waiting += 1
                continue
            if names.taken_with_audio(name, described):
                continue
        else:
            sidecars = names.sidecars_of(name)
        if not sidecars:
            if now.timestamp() - arrivals[name] >= ORPHAN_AFTER_S:
                orphans.append(root / name)
            else:
                waiting += 1  # its partner may still be on the way
            continue
        # A sidecar that fits none of the audio files named like this one, still being copied, holds the pair back:
        # imported without it, the pair left it alone in the inbox, to be filed a day later as having no audio.
        newest = max(mtime, *(mtimes[sidecar] for sidecar in [*sidecars, *names.leftovers_of(name)]))
        if now.timestamp() - newest < settings.inbox_min_age_s:
            waiting += 1
            continue
        if len(sidecars) > 1:
            # Filed at once, together: one was taken as the metadata and the other filed a day later as having no audio.
            ambiguous_pairs.append(AmbiguousPair(audio=root / name, sidecars=[root / each for each in sidecars]))
            continue
        ready.append((newest, InboxPair(audio=root / name, sidecar=root / sidecars[0])))
    ready.sort(key=lambda item: item[0])
    return InboxScan(
        ready=[pair for _, pair in ready],
        waiting=waiting,
        orphans=sorted(orphans),
        ambiguous=ambiguous,
        ambiguous_pairs=ambiguous_pairs,
        stray_notes=sorted(stray_notes),
        notes=dict(notes_by_item),
        not_folders=sorted(not_folders),
        subfolders=subfolders,
    )


def _entries(root: Path) -> tuple[list[str], int, dict[str, float], dict[str, float]]:
    """Those of FOLDERS that another kind of entry (a file) has taken the name of, how many other folders there are
    (hidden ones aside), and each drop's and note's modification time and arrival, by name."""
    entries = _listing(root)
    # A file named as a folder items are filed in is no drop: filed a day later as partnerless, it would be gone.
    not_folders = [entry.name for entry in entries if entry.name in FOLDERS and not entry.is_dir(follow_symlinks=False)]
    subfolders = sum(
        1
        for entry in entries
        if entry.is_dir(follow_symlinks=False) and entry.name not in FOLDERS and not entry.name.startswith(".")
    )
    # Symbolic links are listed (and later refused), never followed, not even to read their target's age.
    listed = [
        entry
        for entry in entries
        if (entry.is_file(follow_symlinks=False) or entry.is_symlink())
        and not entry.name.startswith(".")
        and entry.name not in FOLDERS
    ]
    mtimes, arrivals = {}, {}
    for entry in listed:
        try:
            status = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            # Filed by another jobs process, or taken back, since the listing: raised, it ended the run unimported.
            continue
        mtimes[entry.name] = status.st_mtime
        # A partner is waited for from the file's arrival: `rsync -a`, `cp -p` and unzip carry the source's mtime
        # over, and yesterday's sidecar copied in before its audio was filed at once as having none. The kernel
        # sets the change time on the rename or write that brought the file in, and no tool can set it back.
        arrivals[entry.name] = max(status.st_mtime, status.st_ctime)
    return not_folders, subfolders, mtimes, arrivals


def _listing(root: Path) -> list[os.DirEntry[str]]:
    """The inbox's entries, the inbox made first if it is not there yet. Raised out of the job, a failure (the
    inbox a file, or a folder the jobs process may not list) logged a traceback naming its path every run."""
    try:
        try:
            return list(os.scandir(root))  # read to the end, which closes it
        except FileNotFoundError:
            root.mkdir(parents=True, exist_ok=True)
            return list(os.scandir(root))
    except OSError as exc:
        raise InboxUnavailable(errno_name(exc)) from None


@contextmanager
def holding_inbox(settings: Settings) -> Iterator[None]:
    """The inbox to this process alone while it imports or files one item. Without it two jobs processes took the
    same pair from their scans: both probed and stored it, and the second crashed moving what the first had moved,
    leaving the rest of its scan for its next run."""
    try:
        fd = os.open(inbox_dir(settings), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            os.close(fd)
            raise
    except OSError as exc:
        raise InboxUnavailable(errno_name(exc)) from None
    try:
        yield
    finally:
        os.close(fd)  # releases the lock


def errno_name(exc: OSError) -> str:
    return errno.errorcode.get(exc.errno or 0, type(exc).__name__)


def still_ready(settings: Settings, pair: InboxPair, *, now: datetime) -> bool:
    """Whether the scanned pair is still in the inbox, untouched since long enough: another process may have
    filed it since the scan, or the operator taken it back or dropped a new file (or a folder) under its name."""
    statuses = [drop_status(path) for path in (pair.audio, pair.sidecar)]
    if None in statuses:
        return False
    newest = max(status.st_mtime for status in statuses if status is not None)
    return now.timestamp() - newest >= settings.inbox_min_age_s


def drop_status(path: Path) -> os.stat_result | None:
    """`path`'s status while it is a drop (a regular file, or a link to be refused); None once it is gone, or a folder
    or another kind of entry has taken its name since the scan: that is left where it is, never filed or read."""
    try:
        status = path.lstat()
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENAMETOOLONG):  # a note's name beside a long one is too long to be there
            return None
        raise
    return status if stat.S_ISREG(status.st_mode) or stat.S_ISLNK(status.st_mode) else None


def is_note(name: str) -> bool:
    """A note the importer wrote beside a filed item, moved back into the inbox with it: never a sidecar."""
    return name.lower().endswith((ERROR_SUFFIX, RECEIPT_SUFFIX))


def noted_item(note: str) -> str:
    """The name of the item a note was written beside: `a.wav` for `a.wav.error.json`."""
    suffix = ERROR_SUFFIX if note.lower().endswith(ERROR_SUFFIX) else RECEIPT_SUFFIX
    return note[: -len(suffix)]


def import_pair(
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    *,
    settings: Settings,
    pair: InboxPair,
    read: set[FileIdentity] | None = None,
) -> IngestResult:
    """Ingest one pair from a private copy of its audio; the caller commits, then files it with `settle_pair`. The
    files it opened are added to `read`, so that filing removes nothing it has not read (`settle_pair`)."""
    with _open_dropped(pair.sidecar, field="metadata", read=read) as sidecar:
        # One byte past the limit is enough for `parse_metadata` to refuse a larger file.
        metadata = parse_metadata(_sidecar_text(sidecar.read(MAX_METADATA_BYTES + 1)))
    spool = Spool(spool_dir(settings), max_bytes=settings.max_upload_bytes)
    try:
        with _open_dropped(pair.audio, field="audio", read=read) as audio:
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


def _sidecar_text(raw: bytes) -> bytes:
    """`raw`, or `Invalid` saying the sidecar is empty, or is not UTF-8 text (the encoding JSON is exchanged in) and
    where: an empty one was refused as "Invalid JSON: EOF while parsing a value at line 1 column 0", one saved by
    Windows PowerShell's `>` (UTF-16) as "expected value at line 1 column 1", and one in a legacy code page (`ä` as
    one byte) as "invalid unicode code point", which sent the operator to look for a typing error in a file that looks
    right in any editor. A larger one is left to be refused as such."""
    if len(raw) > MAX_METADATA_BYTES:
        return raw
    if not raw.removeprefix(UTF8_BOM).strip():
        message = "the sidecar is empty; drop the pair again with the call's metadata in it"
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        message = _not_utf8("it is UTF-16 text, as Windows PowerShell's > writes it")
    elif (where := not_utf8_at(raw)) is not None:
        message = _not_utf8(where)
    else:
        return raw
    code = "invalid_json"
    raise Invalid("metadata", message, code=code, errors=[FieldError(field="metadata", code=code, message=message)])


def _not_utf8(found: str) -> str:
    return f"the sidecar is not UTF-8 text ({found}); save it as UTF-8 and drop the pair again"


def file_identity(status: os.stat_result) -> FileIdentity:
    return status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns


def _open_dropped(path: Path, *, field: str, read: set[FileIdentity] | None = None) -> BinaryIO:
    """`path` opened for reading if it is a regular file itself, not a link to one (nor a FIFO, which
    `O_NONBLOCK` keeps from stalling the open when one is swapped in after the scan); added to `read`."""
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
    status = os.fstat(fd)
    if not stat.S_ISREG(status.st_mode):
        os.close(fd)
        raise Invalid(field, "the inbox entry is not a regular file", code="not_a_file")
    if read is not None:
        read.add(file_identity(status))
    return os.fdopen(fd, "rb")
