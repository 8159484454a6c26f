"""The database's plan of a statement a service runs: to check that a query reads an index, not the whole table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, event


def plan_of(connection: Connection, db_kind: str, run: Callable[[], object], table: str) -> str:
    """The plan of the one statement reading `table` that `run` makes, as text. On PostgreSQL sequential scans are
    turned off first: a test database's rows are few enough to read whole, and what matters is that reading them
    whole is not the only way."""
    executed: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        executed.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", seen)
    try:
        run()
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    ((statement, parameters),) = [(sql, given) for sql, given in executed if f"FROM {table}" in sql]
    if db_kind == "postgresql":
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        rows = connection.exec_driver_sql("EXPLAIN " + statement, parameters).all()
    else:
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    return "\n".join(" ".join(str(column) for column in row) for row in rows)
