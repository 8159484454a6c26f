"""Customers by CRM reference: registered by their first call, or earlier by a subject request or a legal hold."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from recordings_service.db import new_id, utcnow
from recordings_service.errors import Invalid
from recordings_service.models import Customer

MAX_REF = 100  # the column's length, and the API's


def customer_reference(raw: str) -> str:
    """A CRM reference as every path keeps and looks it up: without spaces around it.

    Ingest strips them, so a hold, request or filter that kept them would name a customer no call has: an erasure
    answered as done with nothing deleted, a restriction that restricted nothing."""
    customer_ref = raw.strip()
    if not customer_ref or len(customer_ref) > MAX_REF:
        raise Invalid("customer_ref", f"a customer reference of 1 to {MAX_REF} characters", code="invalid_length")
    return customer_ref


def register_customer(session: Session, raw_ref: str) -> str:
    """The customer's id, inserting it if new; concurrent registrations of one new customer both succeed.

    A request or a hold may come before any call is recorded: the answer to an access request is then that we
    hold none, and an objection, restriction or hold applies to the calls recorded later."""
    customer_ref = customer_reference(raw_ref)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(Customer)
        .values(id=new_id(), customer_ref=customer_ref, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=[Customer.customer_ref])
    )
    return session.scalars(select(Customer.id).where(Customer.customer_ref == customer_ref)).one()
