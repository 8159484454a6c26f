"""Narrowing the audit trail to one person's events reads indexes, not the whole trail.

A person is found by their account id or, in any case, by the name the trail keeps (an account since removed has
only its name): `actor_id IN (...) OR lower(actor_name) = ...`. Without an index of the lowered name the OR could
use neither side's index, and each count and page of "what did this person see" read every event ever recorded.
"""

from __future__ import annotations

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from recordings_service.audit_search import EventFilter, count_events
from tests.factories.query_plans import plan_of


def test_a_persons_events_are_found_through_indexes(session: Session, connection: Connection, db_kind: str) -> None:
    plan = plan_of(
        connection, db_kind, lambda: count_events(session, filters=EventFilter(actor="Alice.Auditor")), "audit_events"
    )

    assert "ix_audit_events_actor_name" in plan, plan
    assert "ix_audit_events_actor_id" in plan, plan
    if db_kind == "postgresql":
        assert "Seq Scan" not in plan, plan
    else:
        assert "SCAN audit_events" not in plan.replace("USING", "\0"), plan
