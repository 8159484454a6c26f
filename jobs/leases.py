"""The loop every leased queue's job runs (transcription, research builds, access packages): claim an item under
a lease (commit, so other jobs processes see it), work on it outside any transaction, count the outcome; until
the queue is empty or the run's time budget is spent."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy.orm import Session

from recordings_service.runtime import Runtime

Claim = TypeVar("Claim")
# Set when the process is asked to stop: the item in hand is finished, no other is claimed. A run went on claiming
# for the rest of its budget (five calls transcribed after a SIGTERM), past a service manager's stop timeout.
STOPPING = threading.Event()
# What building one claimed package can come to (research batches, subject access packages).
BUILD_OUTCOMES = ("built", "retrying", "failed", "lease_lost")


def worker_name() -> str:
    """The lease owner this process claims as."""
    return f"{socket.gethostname()}:{os.getpid()}"


def work_through(
    runtime: Runtime,
    *,
    claim: Callable[[Session, str], Claim | None],
    work: Callable[[Claim], str],
    budget_s: float,
    outcomes: Sequence[str],
    log: logging.Logger,
    summary: str,
) -> dict[str, int]:
    """Claim (`claim(session, owner)`, committed) and `work` one item at a time, until the queue is empty, the budget
    spent or the process asked to stop; `work` returns one of `outcomes`, whose counts are logged as `summary` when
    anything was done, and returned."""
    owner = worker_name()
    deadline = time.monotonic() + budget_s
    counts = dict.fromkeys(outcomes, 0)
    while time.monotonic() < deadline and not STOPPING.is_set():
        with runtime.sessions() as session:
            claimed = claim(session, owner)
            session.commit()
        if claimed is None:
            break
        counts[work(claimed)] += 1
    if any(counts.values()):
        log.info(summary, extra=counts)
    return counts
