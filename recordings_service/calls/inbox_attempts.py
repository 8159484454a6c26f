"""How many times in a row each inbox item has failed unexpectedly (a database error, a bug), so that one failing
for ever is filed under `failed/` after `MAX_ATTEMPTS` runs instead of being retried, with a warning, every 30 s.

The counts live in a small file in the inbox's own hidden folder (`.callvault/attempts.json`), not in the jobs
process's memory: a process restarted between runs (a deploy, a crash the item itself may cause) starts over from
nothing, and each of several processes sharing the inbox would count only its own tries. It is read and written
only by a process holding the inbox's lock, and replaced whole, so a crash leaves the old one or the new one.

An item is known by the names, inodes and change times of its files, hashed: the file holds no operator's file
names, and an item the operator touches (a fixed sidecar, a pair moved back from `failed/`, whose rename sets the
change time) starts afresh. Counts of items that stop failing (filed, or taken away) are dropped a day after their
last failure.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

# Five runs, 30 s apart: a passing fault (a database restart, a full disk freed) has had minutes to clear.
MAX_ATTEMPTS = 5
FORGET_AFTER_S = 24 * 3600
STATE = Path(".callvault") / "attempts.json"


def count_failure(root: Path, paths: Sequence[Path], *, now: datetime) -> int:
    """Record one more unexpected failure of the item made of `paths` (in the inbox `root`); how many in a row it has
    now had, or 0 when one of its files is gone or no longer the one that failed (nothing is recorded then)."""
    key = _key(paths)
    if key is None:
        return 0
    state = root / STATE
    counts = {item: entry for item, entry in _read(state).items() if now.timestamp() - entry["last"] < FORGET_AFTER_S}
    attempts = int(counts[key]["attempts"]) + 1 if key in counts else 1
    counts[key] = {"attempts": attempts, "last": now.timestamp()}
    state.parent.mkdir(exist_ok=True)
    written = state.with_name(state.name + ".new")
    written.write_text(json.dumps(counts))
    os.replace(written, state)
    return attempts


def _key(paths: Sequence[Path]) -> str | None:
    digest = hashlib.sha256()
    for path in paths:
        try:
            status = path.lstat()
        except FileNotFoundError:
            return None
        digest.update(os.fsencode(path.name) + f"\0{status.st_ino}\0{status.st_ctime_ns}\0".encode())
    return digest.hexdigest()


def _read(state: Path) -> dict[str, dict[str, float]]:
    """The recorded counts; none when there is no file yet, or one that is not ours (a count lost is one retry more,
    where raising would stop every item from being counted)."""
    try:
        counts = json.loads(state.read_text())
    except (FileNotFoundError, ValueError):
        return {}
    if not isinstance(counts, dict):
        return {}
    return {
        key: entry
        for key, entry in counts.items()
        if isinstance(entry, dict) and all(isinstance(entry.get(each), int | float) for each in ("attempts", "last"))
    }
