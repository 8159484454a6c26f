"""What the inbox holds, for its operator (`callvault inbox status`): the drops ready to import and those still
waiting, the items the next run files under failed/ (a partner that never came, a sidecar that fits several calls),
the imported calls whose files done/ still keeps and the receipts, and what failed/ holds, by the reason each note
gives. A backfill of an old archive is followed by it: the import job's log line counts one run only, and failed/
listed by hand says nothing of why. Counts and reasons only: the names are the operator's (telephony systems name a
file after the caller's number), and the files are theirs to list."""

from __future__ import annotations

import os
import stat
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from recordings_service.calls.inbox import ERROR_SUFFIX, RECEIPT_SUFFIX, is_note, scan_inbox
from recordings_service.calls.inbox_purge import failed_keep_s, filed_folder, filed_notes
from recordings_service.config import Settings


@dataclass(frozen=True)
class FailedReason:
    items: int = 0
    files_removed: int = 0  # a call that may not be kept: its note alone is filed (`inbox_filing.NOT_TO_BE_KEPT`)
    due: int = 0  # filed longer ago than its keeping time: the next import run removes it


@dataclass(frozen=True)
class InboxStatus:
    ready: int
    waiting: int
    to_fail: int
    done_files: int
    receipts: int
    failed: dict[str, FailedReason] = field(default_factory=dict)

    @property
    def failed_items(self) -> int:
        return sum(reason.items for reason in self.failed.values())


def inbox_status(settings: Settings, *, now: datetime) -> InboxStatus:
    """The inbox as the next import run would find it, and its done/ and failed/ folders. Read without its lock: a
    run filing an item meanwhile moves one count to another."""
    scan = scan_inbox(settings, now=now)
    to_fail = len(scan.orphans) + len(scan.ambiguous) + len(scan.ambiguous_pairs) + len(scan.stray_notes)
    done_files, receipts = _done(settings)
    return InboxStatus(
        ready=len(scan.ready),
        waiting=scan.waiting,
        to_fail=to_fail,
        done_files=done_files,
        receipts=receipts,
        failed=_failed(settings, now=now.timestamp()),
    )


def _done(settings: Settings) -> tuple[int, int]:
    """How many files of imported calls done/ keeps (their keeping time not over yet), and how many receipts."""
    with filed_folder(settings, "done") as folder:
        if folder is None:
            return 0, 0
        files = receipts = 0
        for name in os.listdir(folder):
            if name.startswith("."):
                continue
            try:
                status = os.stat(name, dir_fd=folder, follow_symlinks=False)
            except FileNotFoundError:
                continue  # purged meanwhile
            if not stat.S_ISREG(status.st_mode):
                continue
            if name.lower().endswith(RECEIPT_SUFFIX):
                receipts += 1
            elif not is_note(name):
                files += 1
        return files, receipts


def _failed(settings: Settings, *, now: float) -> dict[str, FailedReason]:
    """failed/'s items by the error their notes name (`no_partner`, `past_retention`, `invalid`...), in order; `due`:
    those the next import run removes (`inbox_purge.purge_failed`)."""
    items: Counter[str] = Counter()
    removed: Counter[str] = Counter()
    due: Counter[str] = Counter()
    with filed_folder(settings, "failed") as folder:
        if folder is None:
            return {}
        for note in filed_notes(folder, ERROR_SUFFIX):
            error = note.content.get("error")
            reason = error if isinstance(error, str) else "unknown"
            items[reason] += 1
            removed[reason] += note.removed
            due[reason] += now - note.filed_at > failed_keep_s(settings, removed=note.removed)
    return {reason: FailedReason(items[reason], removed[reason], due[reason]) for reason in sorted(items)}
