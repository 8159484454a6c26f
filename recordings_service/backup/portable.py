"""The portable database dump: every model table, one JSON line per row, loadable into SQLite or PostgreSQL.

It serves where `pg_dump` is missing, and moves a database from one kind to the other. The transcript search
index is not a model (its shape differs per database), so a restore rebuilds it from the transcripts.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, inspect, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from recordings_service import schema
from recordings_service.db import Base, make_engine
from recordings_service.errors import Conflict
from recordings_service.models import Transcript
from recordings_service.runtime import sqlite_file
from recordings_service.transcription.search_index import index_transcript

INSERT_BATCH = 500


def _tables() -> list[Table]:
    return list(Base.metadata.sorted_tables)


def dump_portable(engine: Engine, path: Path) -> None:
    """Every model table, row by row: one JSON line per row, `{"table": …, "row": {…}}`."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out, engine.connect() as connection:
        for table in _tables():
            for row in connection.execute(select(table)).mappings():
                out.write(json.dumps({"table": table.name, "row": {k: _encode(v) for k, v in row.items()}}) + "\n")


def load_portable(engine: Engine, dump: Path, *, revisions: list[str]) -> None:
    """Migrate to the dump's revision, insert its rows table by table (in dependency order), in one transaction.
    The database holds no tables before (the restore checks): on a failure everything the restore created is
    dropped again, so the same restore runs once the cause is fixed; a row the database refuses is a Conflict."""
    objects = _schema_objects(engine)
    current = ""
    try:
        for revision in revisions:
            schema.upgrade(engine, revision)
        tables = {table.name: table for table in _tables()}
        with engine.begin() as connection:
            # Migrations seed some rows (the audit chain head, default policies): the dump holds them as they were.
            present = set(inspect(connection).get_table_names())
            for table in reversed(_tables()):
                if table.name in present:
                    connection.execute(table.delete())
            batch: list[dict[str, Any]] = []
            for line in _lines(dump):
                record = json.loads(line)
                if record["table"] != current or len(batch) >= INSERT_BATCH:
                    if batch:
                        connection.execute(tables[current].insert(), batch)
                    batch, current = [], record["table"]
                batch.append({key: _decode(value) for key, value in record["row"].items()})
            if batch:
                connection.execute(tables[current].insert(), batch)
    except BaseException as exc:
        _drop_created(engine, objects)
        if isinstance(exc, SQLAlchemyError) and current:
            said = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise Conflict(
                f"the dump's rows for table {current} could not be inserted ({said}): "
                "the restore removed the tables it made, fix the dump and run it again"
            ) from None
        raise


def _schema_objects(engine: Engine) -> set[tuple[str, str]]:
    """PostgreSQL: the schema's objects that outlive its tables, as (kind, name): the migrations add trigger
    functions, and the search index's text search configurations and their dictionaries."""
    if engine.dialect.name != "postgresql":
        return set()
    with engine.connect() as connection:
        return {(kind, name) for kind, listed in _SCHEMA_OBJECTS.items() for name in connection.scalars(text(listed))}


# In the order they are dropped: a configuration uses its dictionary.
_SCHEMA_OBJECTS = {
    "FUNCTION": "SELECT oid::regprocedure::text FROM pg_proc WHERE pronamespace = current_schema()::regnamespace",
    "TEXT SEARCH CONFIGURATION": (
        "SELECT oid::regconfig::text FROM pg_ts_config WHERE cfgnamespace = current_schema()::regnamespace"
    ),
    "TEXT SEARCH DICTIONARY": (
        "SELECT oid::regdictionary::text FROM pg_ts_dict WHERE dictnamespace = current_schema()::regnamespace"
    ),
}


def _drop_created(engine: Engine, objects_before: set[tuple[str, str]]) -> None:
    """Drop every table (the database held none before) and the functions and text search objects the migrations
    added (left behind, the configurations failed a later `pg_restore` into the database)."""
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            # The FTS5 search index first: dropping it removes its shadow tables too, listed below as plain ones.
            virtual = "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'"
            for name in connection.scalars(text(virtual)).all():
                connection.exec_driver_sql(f'DROP TABLE "{name}"')
        names = set(inspect(connection).get_table_names())
        # Children before parents: SQLite checks foreign keys as it empties a dropped table.
        ordered = [table.name for table in reversed(_tables()) if table.name in names]
        for name in ordered + sorted(names - set(ordered)):
            suffix = " CASCADE" if engine.dialect.name == "postgresql" else ""
            connection.exec_driver_sql(f'DROP TABLE IF EXISTS "{name}"{suffix}')
    created = _schema_objects(engine) - objects_before
    with engine.begin() as connection:
        for kind in _SCHEMA_OBJECTS:
            for name in sorted(name for made, name in created if made == kind):
                connection.exec_driver_sql(f"DROP {kind} {name}")


def holds_tables(database_url: str) -> bool:
    """Whether the database holds any table: before a restore (it must not), and after a failed one (the operator
    is told whether it must be emptied). Asking about a SQLite file that is not there does not create it."""
    target = sqlite_file(database_url)
    if target is not None and not target.exists():
        return False
    engine = make_engine(database_url)
    try:
        return bool(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _lines(path: Path) -> Iterator[str]:
    with path.open() as lines:
        yield from lines


def _encode(value: object) -> object:
    if isinstance(value, bytes | memoryview):
        return {"$b64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    return value


def _decode(value: object) -> object:
    if isinstance(value, dict) and len(value) == 1:
        [(tag, raw)] = value.items()
        if tag == "$b64":
            return base64.b64decode(raw)
        if tag == "$datetime":
            return datetime.fromisoformat(raw)
        if tag == "$date":
            return date.fromisoformat(raw)
    return value


def rebuild_search_index(session: Session) -> int:
    """A portable dump leaves out the search index (its shape differs per database): index every transcript."""
    count = 0
    for transcript in session.scalars(select(Transcript)):
        index_transcript(session, transcript)
        count += 1
    session.flush()
    return count
