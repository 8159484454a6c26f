"""Declarative base, column types and the engine/session factory."""

from __future__ import annotations

import base64
import json
import re
from collections import deque
from datetime import UTC, datetime
from typing import Annotated, Any

from sqlalchemy import Connection, DateTime, Engine, MetaData, String, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, ExecutionContext
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator
from ulid import ULID

from recordings_service.errors import Invalid

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    return str(ULID())


def key_cursor(*key: str | None) -> str:
    """A cursor naming a page's last row by its sort key as it was read (ISO moments, the id last): the next page
    starts where that row stood, however it has moved (a new due date, an extended deadline) or gone since."""
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def cursor_key(cursor: str, size: int) -> tuple[list[str | None], str]:
    """The values `key_cursor` wrote, `size` in all: those before the id, and the id; else `Invalid` naming `cursor`."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:  # not base64, not UTF-8 or not JSON
        key = None
    if not (
        isinstance(key, list)
        and len(key) == size
        and all(part is None or isinstance(part, str) for part in key)
        and isinstance(key[-1], str)
    ):
        raise Invalid("cursor", "not a cursor this API handed out", code="invalid_cursor")
    return key[:-1], key[-1]


def tagged_key(cursor: str, tag: str, size: int) -> tuple[list[str | None], str]:
    """The values `key_cursor(tag, ...)` wrote after the list's `tag`, `size` in all: those before the id, and the
    id; else `Invalid` naming `cursor`. Lists whose keys have one shape (an id; a moment and an id) read each other's
    cursors as places of their own (a legal hold's id on the receipts, a call's start as an evaluation's release):
    the tag names the list that handed it out."""
    (written, *key), last_id = cursor_key(cursor, size + 1)
    if written != tag:
        raise Invalid("cursor", "not a cursor of this list", code="invalid_cursor")
    return key, last_id


def id_cursor(cursor: str, tag: str) -> str:
    """The last id of the page before, from a cursor of the list `tag` (`key_cursor(tag, id)`), else `Invalid`
    naming `cursor` (a cursor that is not one would page from wherever it happens to sort)."""
    _, last_id = tagged_key(cursor, tag, 1)
    try:
        return str(ULID.from_str(last_id))
    except ValueError:
        raise Invalid("cursor", "not a cursor this API handed out", code="invalid_cursor") from None


def cursor_moment(text: str | None) -> datetime:
    """A moment `key_cursor` wrote (aware, in UTC), else `Invalid` naming `cursor`."""
    try:
        written = datetime.fromisoformat(text or "")
        # Year 1 at +01:00 is year 0 in UTC: no moment of a row, and binding it to a query overflowed (a 500).
        moment = written.astimezone(UTC) if written.tzinfo is not None else None
    except (ValueError, OverflowError):
        moment = None
    if moment is None:
        raise Invalid("cursor", "not a cursor this API handed out", code="invalid_cursor")
    return moment


def utcnow() -> datetime:
    return datetime.now(UTC)


def upsert_insert(session: Session) -> Any:
    """The session's dialect's INSERT, which has `on_conflict_do_nothing` / `_do_update` (both dialects Callvault
    runs on do): a row that a request at the same moment inserted first is met in the statement, not as an error."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite keeps no zone, so it is restored on read)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; Callvault stores timezone-aware UTC times only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime}


ulid_pk = Annotated[str, mapped_column(String(26), primary_key=True, default=new_id)]
created_at = Annotated[datetime, mapped_column(default=utcnow)]


def make_engine(database_url: str, **options: Any) -> Engine:
    """An engine with the pragmas Callvault relies on (foreign keys, WAL and a busy timeout on SQLite).

    Its errors leave out the statement's parameters: those are transcript text, customer refs and the like,
    and error messages end up in logs and in jobs' `last_error`.
    """
    engine = create_engine(database_url, hide_parameters=True, **options)
    event.listen(engine, "before_cursor_execute", _refuse_nul)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "savepoint", _sqlite_begin_before_savepoint)
        event.listen(engine, "before_execute", _sqlite_begin_before_locking_read)
    return engine


# How NUL is refused, here and by the web layer's check of a request's inputs (web/nul_bytes.py).
NUL_REFUSED = "text cannot contain the NUL character (U+0000)"
NUL_CODE = "invalid_character"
# A bind parameter's name is its column's, numbered where a statement compares the column more than once.
_BIND_NUMBER = re.compile(r"_+\d+$")


def _refuse_nul(
    _conn: Connection, _cursor: Any, _statement: str, _parameters: Any, context: ExecutionContext | None, _many: bool
) -> None:
    """Text with the NUL character (U+0000), refused as `Invalid` naming its column, on every backend.

    PostgreSQL cannot store it (a driver error, a 500) where SQLite would; the web layer refuses it in a request's
    inputs, and this is the check for what reaches the database another way (a streamed upload's metadata, the
    inbox, the CLI). The values are looked at before the driver's conversions, as the statement was given them.
    """
    for parameters in getattr(context, "compiled_parameters", None) or ():
        for name, value in parameters.items():
            if _holds_nul(value):
                field = _BIND_NUMBER.sub("", name) or name
                raise Invalid(field, NUL_REFUSED, code=NUL_CODE)


def _holds_nul(value: Any) -> bool:
    pending = deque([value])
    while pending:
        item = pending.popleft()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, (list, tuple)):
            pending.extend(item)
    return False


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin_before_savepoint(connection: Connection, _name: str) -> None:
    """Open the transaction a SAVEPOINT belongs to.

    pysqlite begins transactions lazily, before the first write, which keeps reads lock-free (a
    read-then-write transaction in WAL mode would otherwise fail with SQLITE_BUSY under concurrent
    writers). But a SAVEPOINT outside a transaction starts one of its own, and releasing it commits:
    rows meant to commit together with later writes were committed early, and an outer rollback
    (the test harness's) undid nothing. So a savepoint first opens the real transaction, IMMEDIATE: a savepoint
    is there to write, and a deferred transaction that read first (inside the savepoint) would hold a WAL snapshot
    that SQLite refuses to turn into a write at once (SQLITE_BUSY_SNAPSHOT, no busy wait) should another process
    have committed since. Taking the write lock up front waits, as any writer does, instead.
    """
    begin_immediate(connection)


def _sqlite_begin_before_locking_read(
    connection: Connection, statement: Any, _multiparams: Any, _params: Any, _options: Any
) -> None:
    """Take SQLite's write lock before a read that asks for a row lock (`with_for_update`, shared or not).

    SQLite has no row locks: its dialect leaves `FOR UPDATE` out, and pysqlite begins a transaction only before
    the first write, so two requests could both read a row as it was (a draft batch, a set's order) and both act on
    it, where PostgreSQL makes the second wait for the first's commit. Opened IMMEDIATE, the transaction waits for
    any other writer and keeps the others out until it ends: the database-wide lock SQLite has, taken where the
    code asks for a row's.
    """
    if getattr(statement, "_for_update_arg", None) is None:
        return
    begin_immediate(connection)


def begin_immediate(connection: Connection) -> None:
    """Open the connection's transaction IMMEDIATE (taking SQLite's write lock), unless one is open already."""
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection is not None and not dbapi_connection.in_transaction:
        dbapi_connection.execute("BEGIN IMMEDIATE")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
