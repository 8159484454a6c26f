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

import hashlib
import json
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

# Five runs, 30 s apart: a passing fault (a database restart, a full disk freed) has had minutes to clear.
MAX_ATTEMPTS = 5
FORGET_AFTER_S = 24 * 3600
STATE = Path(".callvault") / "attempts.json"


def count_failure(
    root: Path, paths: Sequence[Path], *, now: datetime, recording_id: str | None = None
) -> tuple[int, str | None]:
    """Record one more unexpected failure of the item made of `paths` (in the inbox `root`), a pair imported as
    `recording_id` that could not be filed; how many in a row it has now had (0 when one of its files is gone or no
    longer the one that failed: nothing is recorded then), and the recording it became in any of them."""
    key = _key(paths)
    if key is None:
        return 0, recording_id
    state = root / STATE
    counts = {item: entry for item, entry in _read(state).items() if now.timestamp() - entry["last"] < FORGET_AFTER_S}
    earlier = counts.get(key, {})
    attempts = int(earlier.get("attempts", 0)) + 1
    recording_id = recording_id or _recording_id(earlier)
    counts[key] = {"attempts": attempts, "last": now.timestamp()}
    if recording_id is not None:
        counts[key]["recording_id"] = recording_id
    state.parent.mkdir(exist_ok=True)
    written = state.with_name(state.name + ".new")
    written.write_text(json.dumps(counts))
    os.replace(written, state)
    return attempts, recording_id


def _recording_id(entry: dict[str, Any]) -> str | None:
    recorded = entry.get("recording_id")
    return recorded if isinstance(recorded, str) else None


def _key(paths: Sequence[Path]) -> str | None:
    digest = hashlib.sha256()
    for path in paths:
        try:
            status = path.lstat()
        except FileNotFoundError:
            return None
        digest.update(os.fsencode(path.name) + f"\0{status.st_ino}\0{status.st_ctime_ns}\0".encode())
    return digest.hexdigest()


def _read(state: Path) -> dict[str, dict[str, Any]]:
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
