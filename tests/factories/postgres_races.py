"""Two PostgreSQL sessions racing for the same rows: a migrated schema of the test's own (its rows really commit,
where the usual test session rolls back), and whether a backend is waiting for a lock another one holds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from recordings_service.db import make_engine
from tests.conftest import private_postgres_schema


@contextmanager
def private_engine(prefix: str) -> Iterator[Engine]:
    """An engine on a migrated schema of its own, dropped afterwards."""
    with private_postgres_schema(prefix) as url:
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


def waits_for_a_lock(engine: Engine, pid: int) -> bool:
    """Whether backend `pid` is blocked on a lock (a row another transaction holds), as PostgreSQL reports it."""
    with engine.connect() as watcher:
        waiting = watcher.execute(text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid})
        return waiting.scalar() == "Lock"


def wait_until_blocked(
    engine: Engine, thread: threading.Thread, outcome: Mapping[str, Any], *, what: str, timeout_s: float = 20
) -> None:
    """Until the backend whose id `thread` put in `outcome["pid"]` waits for a lock; fails when the thread ends
    first (it did not wait) or after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not ("pid" in outcome and waits_for_a_lock(engine, outcome["pid"])):
        assert thread.is_alive() and time.monotonic() < deadline, f"{what} did not wait: {dict(outcome)}"
        time.sleep(0.05)


def start_beside(
    sessions: Callable[[], Session], work: Callable[[Session], object]
) -> tuple[threading.Thread, dict[str, Any]]:
    """`work` on a thread in a session of its own, committed. The outcome names its backend (`pid`), then `result`
    and `done`, or the `error` it raised, for the caller's assertion."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        with sessions() as session:
            outcome["pid"] = session.execute(text("SELECT pg_backend_pid()")).scalar()
            try:
                outcome["result"] = work(session)
                session.commit()
                outcome["done"] = True
            except Exception as exc:  # the caller's assertion names it
                outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome
