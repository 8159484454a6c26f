"""Customers by CRM reference: registered by their first call, or earlier by a subject request or a legal hold."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.account_names import first_invisible, invisible_refused
from recordings_service.db import NUL_CODE, new_id, upsert_insert, utcnow
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


def register_customer(session: Session, raw_ref: str, *, refuse_case_variants: bool = False) -> str:
    """The customer's id, inserting it if new; concurrent registrations of one new customer both succeed.

    A request or a hold may come before any call is recorded: the answer to an access request is then that we
    hold none, and an objection, restriction or hold applies to the calls recorded later.

    With `refuse_case_variants` (a reference a person typed), one likelier mistyped than a new customer's is refused
    (`refuse_mistyped`): taken as new it would apply to nobody's calls. A call's reference is the CRM's own and is
    kept as sent."""
    customer_ref = customer_reference(raw_ref)
    if refuse_case_variants:
        refuse_mistyped(session, customer_ref)
    inserted: str | None = session.scalar(
        upsert_insert(session)(Customer)
        .values(id=new_id(), customer_ref=customer_ref, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=[Customer.customer_ref])
        .returning(Customer.id)
    )
    if inserted is not None:
        return inserted
    return session.scalars(select(Customer.id).where(Customer.customer_ref == customer_ref)).one()


def refuse_mistyped(session: Session, customer_ref: str) -> None:
    """`Invalid` where a reference a person typed matches no customer exactly and is likelier mistyped: it holds an
    invisible character, or differs from known customers' only in letter case (naming those; on SQLite, `lower`
    folds ASCII letters only).

    Ingest refuses invisible characters in a call's reference (since 2026-12-06): one pasted with a zero-width space
    named a new customer, and an erasure or a hold for it was answered as done with nothing deleted or held. A
    customer registered with one before stays reachable by it."""
    same_letters = func.lower(Customer.customer_ref) == func.lower(customer_ref)
    refs = list(session.scalars(select(Customer.customer_ref).where(same_letters).order_by(Customer.customer_ref)))
    if customer_ref in refs:
        return
    character = first_invisible(customer_ref)
    if character is not None:
        raise Invalid("customer_ref", invisible_refused(character, what="a customer reference"), code=NUL_CODE)
    if not refs:
        return
    raise Invalid(
        "customer_ref",
        f"no customer has exactly the reference {customer_ref}, but {', '.join(refs)} "
        f"{'differs' if len(refs) == 1 else 'differ'} from it only in letter case: type the reference as recorded",
        code="case_variant",
        values={"matches": refs},
    )


def lock_customer(session: Session, customer_id: str, *, share: bool = False) -> None:
    """Lock the customer's row until commit: for update where a legal hold or restriction is placed or lifted or an
    erasure carried out, shared where a call of theirs is ingested, before it reads them. The ingest then either
    waits for that change and reads it, or holds the lock first, and the change waits for its commit and then covers
    the new call: read under no lock, a hold placed meanwhile left the new call's `legal_hold` flag false."""
    session.execute(select(Customer.id).where(Customer.id == customer_id).with_for_update(read=share))
