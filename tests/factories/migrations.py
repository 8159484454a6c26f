"""A database migrated up to an older revision, to write data as an older release did and then upgrade it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import Engine, insert, text
from sqlalchemy.orm import Session

from recordings_service import schema
from recordings_service.db import make_engine, utcnow
from recordings_service.models import Recording
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.conftest import private_postgres_schema
from tests.factories.recordings import recording_values


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


def stored_before(session: Session, store: ObjectStore, envelope: Envelope, **overrides: Any) -> str:
    """A call stored as a release before migration 0045 stored it (`make_recording`'s row, without the queue and agent
    keys its schema lacks, which a `Recording` sets with the names and its insert would name); its id."""
    values = recording_values(store, envelope, **overrides)
    # A bulk insert names the values given (and the columns' defaults), with no mapper's validation.
    session.execute(insert(Recording), [values])
    return str(values["id"])


def recordings_indexes(engine: Engine) -> set[str]:
    """The names of the indexes on `recordings`, as the database lists them."""
    query = (
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'recordings'"
        if engine.dialect.name == "sqlite"
        else "SELECT indexname FROM pg_indexes WHERE tablename = 'recordings' AND schemaname = current_schema()"
    )
    with engine.connect() as connection:
        return set(connection.scalars(text(query)))


def user_before(engine: Engine, *, role: str, username: str, agent_ref: str | None = None) -> str:
    """The id of an account written as the releases before 0052 wrote one (no `agent_key`), by SQL: the current
    `User` model names columns an older schema lacks."""
    user_id = username.upper().ljust(26, "0")[:26]
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, username, display_name, role, active, agent_ref, created_at)"
                " VALUES (:id, :username, '', :role, :yes, :agent_ref, :at)"
            ),
            {"id": user_id, "username": username, "role": role, "yes": True, "agent_ref": agent_ref, "at": utcnow()},
        )
    return user_id
