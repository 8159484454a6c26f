"""Two PostgreSQL sessions racing for the same rows: a migrated schema of the test's own (its rows really commit,
where the usual test session rolls back), and whether a backend is waiting for a lock another one holds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text

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
