"""Narrowing the audit trail to one person's events reads indexes, not the whole trail.

A person is found by their account id or, in any case, by the name the trail keeps (an account since removed has
only its name): `actor_id IN (...) OR lower(actor_name) = ...`. Without an index of the lowered name the OR could
use neither side's index, and each count and page of "what did this person see" read every event ever recorded.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

from recordings_service.audit_search import EventFilter, count_events


def plan_of_count(session: Session, connection: Connection, db_kind: str) -> str:
    executed: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        executed.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", seen)
    try:
        count_events(session, filters=EventFilter(actor="Alice.Auditor"))
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    ((statement, parameters),) = [(sql, given) for sql, given in executed if "FROM audit_events" in sql]
    if db_kind == "postgresql":
        # The trail of a test database is small enough to read whole; what matters is that reading it whole is
        # not the only way.
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        rows = connection.exec_driver_sql("EXPLAIN " + statement, parameters).all()
    else:
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    return "\n".join(" ".join(str(column) for column in row) for row in rows)


def test_a_persons_events_are_found_through_indexes(session: Session, connection: Connection, db_kind: str) -> None:
    plan = plan_of_count(session, connection, db_kind)

    assert "ix_audit_events_actor_name" in plan, plan
    assert "ix_audit_events_actor_id" in plan, plan
    if db_kind == "postgresql":
        assert "Seq Scan" not in plan, plan
    else:
        assert "SCAN audit_events" not in plan.replace("USING", "\0"), plan
