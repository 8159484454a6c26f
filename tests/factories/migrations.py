"""A database migrated up to an older revision, to write data as an older release did and then upgrade it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from sqlalchemy import Engine

from recordings_service import schema
from recordings_service.db import make_engine
from tests.conftest import private_postgres_schema


@contextmanager
def database_at(revision: str, kind: str, tmp_path: Path) -> Iterator[Engine]:
    """A new SQLite file under `tmp_path`, or a private PostgreSQL schema (dropped after), at `revision`; without
    PostgreSQL the test is skipped, or fails under CI (`private_postgres_schema`)."""
    if kind == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        schema.upgrade(engine, revision)
        yield engine
        engine.dispose()
        return
    with private_postgres_schema("t_at_") as url:
        engine = make_engine(url)
        config = schema.alembic_config(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, revision)
        yield engine
        engine.dispose()
