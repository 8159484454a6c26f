"""How many times in a row each inbox item has failed unexpectedly (a database error, a bug), so that one failing
for ever is filed under `failed/` after `MAX_ATTEMPTS` runs instead of being retried, with a warning, every 30 s.

The counts live in a small file in the inbox's own hidden folder (`.callvault/attempts.json`), not in the jobs
process's memory: a process restarted between runs (a deploy, a crash the item itself may cause) starts over from
nothing, and each of several processes sharing the inbox would count only its own tries. It is read and written
only by a process holding the inbox's lock, and replaced whole, so a crash leaves the old one or the new one.

An item is known by the names, inodes and change times of its files, hashed: the file holds no operator's file
names, and an item the operator touches (a fixed sidecar, a pair moved back from `failed/`, whose rename sets the
change time) starts afresh. A pair imported in one of its runs but not filed keeps the id of the recording it
became (no personal data), so that giving it up says so. Counts of items that stop failing (filed, or taken away)
are dropped a day after their last failure.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import stat
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

# Five runs, 30 s apart: a passing fault (a database restart, a full disk freed) has had minutes to clear.
MAX_ATTEMPTS = 5
FORGET_AFTER_S = 24 * 3600
STATE = Path(".callvault") / "attempts.json"
MAX_STATE_BYTES = 4 * 1024 * 1024  # some 30,000 items, each failing run after run


def item_key(paths: Sequence[Path]) -> str | None:
    """The item as its files now are (None when one is gone): taken when a run takes the item up, and given to
    `count_failure` as `found_as`."""
    digest = hashlib.sha256()
    for path in paths:
        try:
            status = path.lstat()
        except FileNotFoundError:
            return None
        digest.update(os.fsencode(path.name) + f"\0{status.st_ino}\0{status.st_ctime_ns}\0".encode())
    return digest.hexdigest()


def count_failure(
    root: Path,
    paths: Sequence[Path],
    *,
    now: datetime,
    found_as: str | None,
    recording_id: str | None = None,
) -> tuple[int, str | None]:
    """Record one more unexpected failure of the item made of `paths` (in the inbox `root`), a pair imported as
    `recording_id` that could not be filed; how many in a row it has now had (0 when one of its files is gone or no
    longer the one that failed: nothing is recorded then), and the recording it became in any of them.

    The earlier count is the one of the item as this run found it (`found_as`, its `item_key` then), the new one is
    kept under the item as the run leaves it: the run's own moves (a pair moved into done/ and back when its sidecar
    could not follow) change a file's change time, and counted under the key of the files as they were left, the
    item began at 1 again every run and was never given up."""
    key = item_key(paths)
    if key is None:
        return 0, recording_id
    folder = _open_folder(root)
    try:
        recorded = _read(folder).items()
        counts = {item: entry for item, entry in recorded if now.timestamp() - entry["last"] < FORGET_AFTER_S}
        earlier = counts.pop(found_as, {}) if found_as is not None else {}
        attempts = int(earlier.get("attempts", 0)) + 1
        recording_id = recording_id or _recording_id(earlier)
        counts[key] = {"attempts": attempts, "last": now.timestamp()}
        if recording_id is not None:
            counts[key]["recording_id"] = recording_id
        _write(folder, json.dumps(counts))
    finally:
        os.close(folder)
    return attempts, recording_id


def _open_folder(root: Path) -> int:
    """The hidden folder, made if it is not there, opened without following a symbolic link; each of its files is then
    opened relative to it, never through a link either. Whoever may write to the inbox may make the folder, or put
    links in it before the jobs process does: a link `attempts.json.new` → the database or the master key had the
    count written over that file."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(root / STATE.parent)
    return os.open(root / STATE.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)


def _write(folder: int, text: str) -> None:
    """`text` as the whole state file, replaced at once."""
    written = STATE.name + ".new"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(written, dir_fd=folder)  # one a crash left, or a link put there: the link goes, not its target
    fd = os.open(written, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666, dir_fd=folder)
    with os.fdopen(fd, "w") as file:
        file.write(text)
    os.replace(written, STATE.name, src_dir_fd=folder, dst_dir_fd=folder)


def _recording_id(entry: dict[str, Any]) -> str | None:
    recorded = entry.get("recording_id")
    return recorded if isinstance(recorded, str) else None


def _read(folder: int) -> dict[str, dict[str, Any]]:
    """The recorded counts; none when there is no file yet, or one that is not ours (a count lost is one retry more,
    where raising would stop every item from being counted): a link, a FIFO (which stalled the job), or a file too
    large for the counts of the items failing in a day."""
    try:
        fd = os.open(STATE.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return {}
        raise
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return {}
        raw = file.read(MAX_STATE_BYTES + 1)
    try:
        counts = json.loads(raw) if len(raw) <= MAX_STATE_BYTES else None
    except ValueError:
        return {}
    if not isinstance(counts, dict):
        return {}
    return {
        key: entry
        for key, entry in counts.items()
        if isinstance(entry, dict) and all(isinstance(entry.get(each), int | float) for each in ("attempts", "last"))
    }
