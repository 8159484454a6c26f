"""A migrated SQLite database in a file of the test's own: its rows really commit, so several connections (threads,
processes) share them, where the usual test session rolls back. PostgreSQL's counterpart is
`tests.factories.postgres_races.private_engine`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine

from recordings_service import schema
from recordings_service.db import make_engine


@contextmanager
def sqlite_file_engine(path: Path) -> Iterator[Engine]:
    """An engine on a new SQLite database at `path`, migrated to the head revision; disposed afterwards."""
    engine = make_engine(f"sqlite:///{path}")
    try:
        schema.upgrade(engine)
        yield engine
    finally:
        engine.dispose()
