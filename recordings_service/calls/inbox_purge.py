"""Removing the inbox's filed items once their keeping time is over: an imported call's dropped files from done/, and
everything refused from failed/.

done/ holds each imported call as it was dropped, its audio unencrypted and its sidecar naming the customer, beside
the receipt. They stayed there for good: copies that neither an erasure nor the retention sweep reached, readable by
whoever can read the data directory or its backups, while the stored original is encrypted and its key destroyed when
the call is deleted. They are now removed `CALLVAULT_INBOX_KEEP_DONE_HOURS` after their filing (the store holds the
call); the receipts stay, so that the operator can still trace each drop to its recording, and keep a later drop of
the same name from being filed over them. failed/ is the operator's to correct and drop again, for
`CALLVAULT_INBOX_KEEP_FAILED_DAYS`: then its items go with their notes, which the operator has had the time to act on
(they stayed for good, unencrypted and naming their customers, beyond any erasure or retention); a note alone, of a
call that may not be kept, as soon as done/'s files."""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import stat
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.calls.inbox import ERROR_SUFFIX, RECEIPT_SUFFIX, errno_name, inbox_dir, is_note
from recordings_service.config import Settings
from recordings_service.models import Recording
from recordings_service.models.recording import RecordingStatus

log = logging.getLogger(__name__)

NOT_A_FOLDER = {errno.ENOENT, errno.ENOTDIR, errno.ELOOP}
# A note is a few hundred bytes (a refusal naming every invalid field a few thousand); a larger file under its name is
# not one the importer wrote, and is left.
_NOTE_BYTES = 64 * 1024
_LOOKUP_BATCH = 500


@contextmanager
def filed_folder(settings: Settings, name: str) -> Iterator[int | None]:
    """done/ or failed/ opened as a folder (None when there is none yet, or a file or link in its place, which every
    run warns of). Not followed: a link put in its place would have the purge remove files wherever it points."""
    try:
        folder = os.open(inbox_dir(settings) / name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno in NOT_A_FOLDER:
            yield None
            return
        raise
    try:
        yield folder
    finally:
        os.close(folder)


def purge_done(settings: Settings, *, now: float) -> int:
    """Remove the files filed under done/ longer than the keeping time before `now` (seconds since the epoch), its
    receipts excepted; how many. The caller holds the inbox's lock, as filing does."""
    keep_s = settings.inbox_keep_done_hours * 3600
    return _purge(settings, "done", keep_s=lambda _: keep_s, now=now, notes_too=False)


def purge_failed(settings: Settings, *, now: float) -> int:
    """Remove the files filed under failed/ longer than its keeping time before `now`, their notes too; how many.
    The note of a call whose files were removed (`inbox_filing.NOT_TO_BE_KEPT`) goes after done/'s keeping time: its
    name is the drop's, often the caller's number, and it says the call was erased or past its retention, which is
    nothing to correct and no longer to be kept about that person. The caller holds the inbox's lock."""
    keep_failed_s, keep_removed_s = failed_keep_s(settings, removed=False), failed_keep_s(settings, removed=True)
    with filed_folder(settings, "failed") as folder:
        # Only notes old enough to go are read: every run (every 30 s) read them all.
        old_enough = now - keep_removed_s
        removed = (
            set()
            if folder is None
            else {note.name for note in filed_notes(folder, ERROR_SUFFIX, filed_before=old_enough) if note.removed}
        )
    return _purge(
        settings,
        "failed",
        keep_s=lambda name: keep_removed_s if name in removed else keep_failed_s,
        now=now,
        notes_too=True,
    )


def failed_keep_s(settings: Settings, *, removed: bool) -> float:
    """How long failed/ keeps an item: `CALLVAULT_INBOX_KEEP_FAILED_DAYS`, or a note left alone (`removed`) as long
    as done/ keeps an imported call's files, if that is shorter."""
    keep_failed_s = settings.inbox_keep_failed_days * 86400
    return min(settings.inbox_keep_done_hours * 3600, keep_failed_s) if removed else keep_failed_s


def _purge(settings: Settings, name: str, *, keep_s: Callable[[str], float], now: float, notes_too: bool) -> int:
    """Remove what `name` holds longer than `keep_s` (of each entry's name) before `now`; how many. A file that
    cannot be removed (made immutable, its folder's permissions changed) is passed over and counted in one warning:
    raised, it ended the purge there, every run, and what came after it in the folder stayed for good."""
    removed = 0
    refused: Counter[str] = Counter()
    with filed_folder(settings, name) as folder:
        if folder is None:
            return 0
        for entry in os.listdir(folder):
            if entry.startswith(".") or (is_note(entry) and not notes_too):
                continue  # nothing hidden is filed here
            try:
                status = os.stat(entry, dir_fd=folder, follow_symlinks=False)
                # Its filing, not its modification, which `rsync -a` or `cp -p` carry over (last year's, say): the
                # rename into the folder changed the file's status, and nothing else here does.
                if not stat.S_ISREG(status.st_mode) or now - status.st_ctime <= keep_s(entry):
                    continue  # a folder or a link is not filed here, and a young file stays
                os.unlink(entry, dir_fd=folder)
                removed += 1
            except FileNotFoundError:
                continue  # another jobs process removed it meanwhile
            except OSError as exc:
                refused[errno_name(exc)] += 1
    for reason, files in refused.items():  # never named: a file's name is the operator's, often a caller's number
        log.warning("inbox files not purged", extra={"folder": name, "files": files, "reason": reason})
    return removed


def purge_receipts_of_deleted(session: Session, settings: Settings) -> int:
    """Remove the receipts under done/ whose recording has been deleted; how many. The caller holds the inbox's
    lock. A file that is not a receipt the importer wrote (a link, unreadable, not its JSON) is left."""
    with filed_folder(settings, "done") as folder:
        if folder is None:
            return 0
        receipts = dict(_receipts(folder))
        deleted: set[str] = set()
        ids = sorted(set(receipts.values()))
        for start in range(0, len(ids), _LOOKUP_BATCH):
            batch = ids[start : start + _LOOKUP_BATCH]
            live = set(
                session.scalars(
                    select(Recording.id).where(Recording.id.in_(batch), Recording.status != RecordingStatus.DELETED)
                )
            )
            deleted.update(set(batch) - live)
        removed = 0
        for name, recording_id in receipts.items():
            if recording_id in deleted:
                with contextlib.suppress(FileNotFoundError):  # another jobs process removed it meanwhile
                    os.unlink(name, dir_fd=folder)
                    removed += 1
        return removed


def _receipts(folder: int) -> Iterator[tuple[str, str]]:
    """(name, recording id) of each receipt under done/."""
    for note in filed_notes(folder, RECEIPT_SUFFIX):
        recording_id = note.content.get("recording_id")
        if isinstance(recording_id, str):
            yield note.name, recording_id


@dataclass(frozen=True)
class FiledNote:
    name: str
    content: dict[str, object]
    filed_at: float  # its change time: when it was written or moved in, in seconds since the epoch

    @property
    def removed(self) -> bool:
        """A note left alone: its call's files were removed (`inbox_filing.NOT_TO_BE_KEPT`)."""
        return "removed" in self.content


def filed_notes(folder: int, suffix: str, *, filed_before: float | None = None) -> Iterator[FiledNote]:
    """Each note the importer wrote in `folder` (done/'s receipts, failed/'s refusals). A file that is not one (a
    link, unreadable, too large, not a JSON object) is passed over, as is a note filed as an item with a note of its
    own (one moved back alone and filed as a stray a day later): counted as two, one item read as two. With
    `filed_before` (seconds since the epoch), only the notes filed before then are read."""
    names = os.listdir(folder)
    noted = {name.lower() for name in names}
    for name in names:
        if name.startswith(".") or not name.lower().endswith(suffix) or (name + suffix).lower() in noted:
            continue
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder)
        except OSError:
            continue  # a link, gone meanwhile, or not readable
        status = os.fstat(fd)
        young = filed_before is not None and status.st_ctime >= filed_before
        if young or not stat.S_ISREG(status.st_mode):  # a folder under a note's name: `fdopen` refuses one
            os.close(fd)
            continue
        with os.fdopen(fd, "rb") as note:
            text = note.read(_NOTE_BYTES + 1)
        try:
            content = json.loads(text) if len(text) <= _NOTE_BYTES else None
        except ValueError:
            continue
        if isinstance(content, dict):
            yield FiledNote(name, content, status.st_ctime)
