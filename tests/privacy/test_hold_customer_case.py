"""A customer hold whose reference matches a known customer's only in letter case is refused, naming that one.

Found by reviewing the holds page: `CUST-17` typed for the customer recorded as `cust-17` registered a new
customer and said "Legal hold placed on 0 recordings.", while cust-17's calls stayed deletable.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.models import Customer, LegalHold
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user, post_form
from tests.factories.privacy import aged_call, customer
from tests.factories.recordings import make_token
from tests.page_text import visible_text

LONG_AGO = datetime.now(UTC) - timedelta(days=800)


def counts(session: Session) -> tuple[int, int]:
    return (
        session.scalar(select(func.count()).select_from(Customer)) or 0,
        session.scalar(select(func.count()).select_from(LegalHold)) or 0,
    )


def test_the_api_refuses_a_reference_in_another_letter_case(
    client: FlaskClient, session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    known = customer(session)
    aged_call(session, bucket, envelope, started_at=LONG_AGO, purposes=[], customer_id=known.id)
    officer = {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="compliance")}
    before = counts(session)

    refused = client.post(
        "/api/v1/legal-holds", json={"customer_ref": known.customer_ref.upper(), "reason": "dispute"}, headers=officer
    )
    assert refused.status_code == 422, refused.json
    assert (refused.json["field"], refused.json["error"]) == ("customer_ref", "case_variant")
    assert known.customer_ref in refused.json["message"]
    assert counts(session) == before  # no customer registered, no hold placed

    # Where a customer of exactly that reference exists, it is the one held, whatever others differ in case.
    exact = customer(session, known.customer_ref.upper())
    placed = client.post(
        "/api/v1/legal-holds", json={"customer_ref": exact.customer_ref, "reason": "dispute"}, headers=officer
    )
    assert placed.status_code == 201, placed.json
    assert session.get_one(LegalHold, placed.json["id"]).customer_id == exact.id


def test_the_page_marks_the_value_field_and_names_the_matching_reference(client: FlaskClient, session: Session) -> None:
    known = customer(session)
    login(client, make_user(session, role=Role.COMPLIANCE))
    typed = known.customer_ref.upper()
    refused = post_form(
        client,
        "/compliance/holds",
        {"target": "customer", "value": typed, "reason": "dispute 17"},
        token_from="/compliance/holds",
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert (
        f"no customer has exactly this reference, but {known.customer_ref} differs from it only in letter case"
        in visible_text(page)
    )
    value = re.search(r'<input id="value"[^>]*>', page)
    assert value is not None and f'value="{typed}"' in value[0] and 'aria-invalid="true"' in value[0]
    assert session.scalars(select(Customer).where(Customer.customer_ref == typed)).first() is None
