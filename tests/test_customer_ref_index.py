"""A typed customer reference is checked against known ones in any letter case through an index.

A subject request, a legal hold or the request list's filter refuses a reference that matches no customer exactly but
differs from known ones only in letter case (`refuse_mistyped`): `lower(customer_ref) = lower(...)`. With only the
reference itself indexed, each such check read every customer the utility has (migration 0048).
"""

from __future__ import annotations

from sqlalchemy import Connection, insert
from sqlalchemy.orm import Session

from recordings_service.customers import refuse_mistyped
from recordings_service.db import new_id, utcnow
from recordings_service.models import Customer
from tests.factories.query_plans import plan_of


def test_a_typed_reference_is_matched_in_any_letter_case_through_an_index(
    session: Session, connection: Connection, db_kind: str
) -> None:
    session.execute(
        insert(Customer),
        [{"id": new_id(), "customer_ref": f"cust-{number}", "updated_at": utcnow()} for number in range(2000)],
    )
    if db_kind == "postgresql":
        connection.exec_driver_sql("ANALYZE customers")

    plan = plan_of(connection, db_kind, lambda: refuse_mistyped(session, "CUST-2041"), "customers")

    assert "ix_customers_ref_lower" in plan, plan
    if db_kind == "postgresql":
        assert "Seq Scan" not in plan, plan
