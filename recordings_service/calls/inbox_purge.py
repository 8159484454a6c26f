"""Removing an imported call's dropped files from the inbox's done/ once their keeping time is over.

done/ holds each imported call as it was dropped, its audio unencrypted and its sidecar naming the customer, beside
the receipt. They stayed there for good: copies that neither an erasure nor the retention sweep reached, readable by
whoever can read the data directory or its backups, while the stored original is encrypted and its key destroyed when
the call is deleted. They are now removed `CALLVAULT_INBOX_KEEP_DONE_HOURS` after their filing (the store holds the
call); the receipts stay, so that the operator can still trace each drop to its recording, and keep a later drop of
the same name from being filed over them. failed/ is the operator's to correct and drop again: nothing is removed
there.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat

from recordings_service.calls.inbox import inbox_dir, is_note
from recordings_service.config import Settings

NOT_A_FOLDER = {errno.ENOENT, errno.ENOTDIR, errno.ELOOP}


def purge_done(settings: Settings, *, now: float) -> int:
    """Remove the files filed under done/ longer than the keeping time before `now` (seconds since the epoch); how
    many. The caller holds the inbox's lock, as filing does."""
    keep_s = settings.inbox_keep_done_hours * 3600
    try:
        # Not followed: a link put in done/'s place would have the purge remove files wherever it points.
        folder = os.open(inbox_dir(settings) / "done", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno in NOT_A_FOLDER:
            return 0  # nothing filed yet, or a file or link in its place, which every run warns of
        raise
    removed = 0
    try:
        for name in os.listdir(folder):
            if name.startswith(".") or is_note(name):
                continue  # receipts stay; nothing hidden is filed here
            with contextlib.suppress(FileNotFoundError):  # another jobs process removed it meanwhile
                status = os.stat(name, dir_fd=folder, follow_symlinks=False)
                # Its filing, not its modification, which `rsync -a` or `cp -p` carry over (last year's, say): the
                # rename into done/ changed the file's status, and nothing else here does.
                if not stat.S_ISREG(status.st_mode) or now - status.st_ctime <= keep_s:
                    continue  # a folder or a link is not filed here, and a young file stays
                os.unlink(name, dir_fd=folder)
                removed += 1
    finally:
        os.close(folder)
    return removed
