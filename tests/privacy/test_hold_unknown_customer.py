"""A customer hold typed on the page for a reference no customer has is refused, unless the officer ticks that the
customer is not known yet (a hold ahead of their calls). It said "Legal hold placed on 0 recordings." for a
mistyped reference (CUST-1O01 for CUST-1001) and registered a new customer, leaving the one meant unheld."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.models import Customer, LegalHold
from recordings_service.models.account import Role
from tests.factories.accounts import login, make_user, post_form
from tests.page_text import visible_text

HOLDS = "/compliance/holds"


def _holds(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(LegalHold)) or 0


def test_an_unknown_reference_is_refused_until_the_officer_ticks_a_customer_not_known_yet(
    client: FlaskClient, session: Session
) -> None:
    login(client, make_user(session, role=Role.COMPLIANCE))
    typed = "CUST-1O01-unknown"
    before = _holds(session)

    refused = post_form(client, HOLDS, {"target": "customer", "value": typed, "reason": "dispute 14"}, token_from=HOLDS)

    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "no customer has this reference: check it" in visible_text(page)
    value = re.search(r'<input id="value"[^>]*>', page)
    assert value is not None and f'value="{typed}"' in value[0] and 'aria-invalid="true"' in value[0]
    assert _holds(session) == before
    assert session.scalars(select(Customer).where(Customer.customer_ref == typed)).first() is None

    form = {"target": "customer", "value": typed, "reason": "dispute 14", "new_customer": "1"}
    placed = post_form(client, HOLDS, form, token_from=HOLDS)

    assert placed.status_code == 302
    held = session.scalars(select(Customer).where(Customer.customer_ref == typed)).one()
    assert session.scalars(select(LegalHold).where(LegalHold.customer_id == held.id)).one().released_at is None
