"""Database schema management over Alembic: upgrade, inspect revisions, compare models with migrations."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from recordings_service import models  # noqa: F401  (registers every table on Base.metadata)
from recordings_service.db import Base, begin_immediate
from recordings_service.errors import Conflict
from recordings_service.transcription.search_index import is_index_table

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Apply every migration not yet applied, all of them or none; a database a newer release made is refused
    (`Conflict`, one line), where Alembic's "Can't locate revision" ended `callvault run` in a traceback."""
    require_known_revisions(current_revisions(engine), what="the database")
    config = alembic_config(engine)
    with _migration_connection(engine) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


@contextmanager
def _migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection whose migrations commit together at its end, or not at all.

    On SQLite two things stood in the way. pysqlite opens a transaction only before a data write, so a migration's
    CREATE, DROP and table rebuilds committed one by one: a failure left new tables under the old revision, and
    every later upgrade failed on them. And with the foreign-key pragma Callvault sets, a table rebuild (Alembic's
    batch mode copies the table, drops the old one and renames the copy) could not drop a table other rows refer
    to: no database with accounts could be upgraded past a migration that rebuilds `users`. So the pragma is off
    while migrating (SQLite changes it only outside a transaction), the transaction is opened before the first
    statement, and the references are checked before the commit where the connection enforced them."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as connection:
            yield connection
        return
    with engine.connect() as connection:
        driver = connection.connection.dbapi_connection
        assert driver is not None  # a checked-out connection holds its driver's
        (enforced,) = driver.execute("PRAGMA foreign_keys").fetchone()
        driver.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                begin_immediate(connection)
                yield connection
                if enforced:
                    _refuse_broken_references(connection)
        finally:
            driver.execute(f"PRAGMA foreign_keys={'ON' if enforced else 'OFF'}")


def _refuse_broken_references(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        tables = sorted({f"{row[0]} -> {row[2]}" for row in broken})
        raise Conflict(
            f"the migration would leave {len(broken)} rows referring to rows that do not exist "
            f"({', '.join(tables)}); nothing was changed"
        )


@cache
def _script_revisions() -> tuple[frozenset[str], frozenset[str]]:
    """The migration scripts' heads and every revision they know; read once, as they cannot change at run time
    (`/readyz` asks on every probe)."""
    scripts = ScriptDirectory(str(MIGRATIONS_DIR))
    return frozenset(scripts.get_heads()), frozenset(revision.revision for revision in scripts.walk_revisions())


def head_revisions() -> set[str]:
    return set(_script_revisions()[0])


def require_known_revisions(revisions: Iterable[str], *, what: str) -> None:
    """Refuse (409) a database at revisions this release has no migrations for: made by a newer release, it would
    only fail once upgraded, after whatever came before."""
    if unknown := sorted(set(revisions) - _script_revisions()[1]):
        raise Conflict(
            f"{what} is at revision {', '.join(unknown)}, which this release does not know: "
            "use the release that made it, or a newer one"
        )


def current_revisions(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def migration_state(engine: Engine) -> str:
    """`head` when fully migrated, `pending` when migrations remain, `unknown` for revisions this code lacks."""
    current = current_revisions(engine)
    heads = head_revisions()
    if current == heads:
        return "head"
    return "pending" if current <= _script_revisions()[1] else "unknown"


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Autogenerate's filter: the search index is dialect-specific DDL without a model (search_index.py)."""
    return not (type_ == "table" and reflected and compare_to is None and name and is_index_table(name))


def pending_model_changes(engine: Engine) -> list[Any]:
    """What autogenerate would add to a new migration; empty when models and migrations agree."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": include_object})
        return list(compare_metadata(context, Base.metadata))
