"""A typed customer reference is checked against known ones in any letter case through an index.

A subject request, a legal hold or the request list's filter refuses a reference that matches no customer exactly but
differs from known ones only in letter case (`refuse_mistyped`): `lower(customer_ref) = lower(...)`. With only the
reference itself indexed, each such check read every customer the utility has (migration 0048).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, event, insert
from sqlalchemy.orm import Session

from recordings_service.customers import refuse_mistyped
from recordings_service.db import new_id, utcnow
from recordings_service.models import Customer


def plan_of_check(session: Session, connection: Connection, db_kind: str) -> str:
    session.execute(
        insert(Customer),
        [{"id": new_id(), "customer_ref": f"cust-{number}", "updated_at": utcnow()} for number in range(2000)],
    )
    if db_kind == "postgresql":
        connection.exec_driver_sql("ANALYZE customers")
    executed: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        executed.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", seen)
    try:
        refuse_mistyped(session, "CUST-2041")
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    ((statement, parameters),) = [(sql, given) for sql, given in executed if "FROM customers" in sql]
    if db_kind == "postgresql":
        # A test database's customers are few enough to read whole; what matters is that reading them whole is not
        # the only way.
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        rows = connection.exec_driver_sql("EXPLAIN " + statement, parameters).all()
    else:
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    return "\n".join(" ".join(str(column) for column in row) for row in rows)


def test_a_typed_reference_is_matched_in_any_letter_case_through_an_index(
    session: Session, connection: Connection, db_kind: str
) -> None:
    plan = plan_of_check(session, connection, db_kind)

    assert "ix_customers_ref_lower" in plan, plan
    if db_kind == "postgresql":
        assert "Seq Scan" not in plan, plan
