"""Where a bench's CPU went: every process's CPU seconds at two moments, summed by kind in between."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable

import psutil

# pid -> (kind, CPU seconds so far)
Snapshot = dict[int, tuple[str, float]]


def snapshot(processes: Iterable[psutil.Process], kind_of: Callable[[psutil.Process], str | None]) -> Snapshot:
    """The kind and CPU seconds so far of each process `kind_of` names, the children it has reaped included (an
    audio worker's forked children, PostgreSQL's ended backends); a process that is gone is left out."""
    taken: Snapshot = {}
    for process in processes:
        with contextlib.suppress(psutil.Error):
            kind = kind_of(process)
            if kind is not None:
                times = process.cpu_times()
                taken[process.pid] = (kind, times.user + times.system + times.children_user + times.children_system)
    return taken


def used_between(before: Snapshot, after: Snapshot) -> dict[str, float]:
    """CPU seconds each kind used from `before` to `after`; a process started in between counts whole."""
    used: dict[str, float] = {}
    for pid, (kind, seconds) in after.items():
        used[kind] = used.get(kind, 0.0) + seconds - before.get(pid, (kind, 0.0))[1]
    return used
