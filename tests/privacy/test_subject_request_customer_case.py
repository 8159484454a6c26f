"""A subject request whose customer reference matches a known customer's only in letter case is refused, naming
that one, as a customer hold is.

Found by review: `CUST-17` typed for the customer recorded as `cust-17` registered a new customer, so an erasure
request erased nothing of cust-17's calls, an access package said "we hold no recordings of you" and an objection
kept nobody's calls out of research.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.models import Customer, SubjectRequest
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user, post_form
from tests.factories.privacy import aged_call, customer
from tests.factories.recordings import make_token
from tests.page_text import visible_text

RECEIVED = datetime.now(UTC).replace(microsecond=0)


def counts(session: Session) -> tuple[int, int]:
    session.expire_all()
    return (
        session.scalar(select(func.count()).select_from(Customer)) or 0,
        session.scalar(select(func.count()).select_from(SubjectRequest)) or 0,
    )


def test_the_api_refuses_a_reference_in_another_letter_case(client: FlaskClient, session: Session) -> None:
    known = customer(session)
    officer = {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="compliance")}
    before = counts(session)

    def ask(ref: str) -> tuple[int, dict[str, str]]:
        body = {"customer_ref": ref, "kind": "erasure", "received_at": RECEIVED.isoformat()}
        answer = client.post("/api/v1/subject-requests", json=body, headers=officer)
        return answer.status_code, answer.json

    status, refused = ask(known.customer_ref.upper())
    assert status == 422, refused
    assert (refused["field"], refused["error"]) == ("customer_ref", "case_variant")
    assert known.customer_ref in refused["message"]
    assert counts(session) == before  # no customer registered, no request made

    status, made = ask(known.customer_ref)
    assert status == 201, made
    assert session.get_one(SubjectRequest, made["id"]).customer_id == known.id


def test_the_page_keeps_the_form_and_names_the_matching_reference(client: FlaskClient, session: Session) -> None:
    known = customer(session)
    login(client, make_user(session, role=Role.COMPLIANCE))
    typed = known.customer_ref.upper()
    before = counts(session)

    refused = post_form(
        client,
        "/subjects/",
        {"customer_ref": typed, "kind": "access", "received_on": RECEIVED.date().isoformat()},
        token_from=f"/subjects/?customer_ref={typed}",
    )

    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert (
        f"no customer has exactly this reference, but {known.customer_ref} differs from it only in letter case"
        in visible_text(page)
    )
    field = re.search(r'<input id="customer_ref"[^>]*>', page)
    assert field is not None and 'aria-invalid="true"' in field[0]
    assert counts(session) == before


def test_looking_up_a_reference_in_another_letter_case_does_not_say_we_hold_nothing(
    client: FlaskClient, session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    """Found by exploratory testing: the lookup answered "No recordings are held for customer CUST-…" of a customer
    whose calls were held under cust-…, which an officer answering "do you process my data?" would pass on."""
    known = customer(session)
    aged_call(session, bucket, envelope, started_at=RECEIVED, purposes=["training"], customer_id=known.id)
    login(client, make_user(session, role=Role.COMPLIANCE))
    typed = known.customer_ref.upper()

    page = client.get("/subjects/", query_string={"customer_ref": typed}).get_data(as_text=True)

    text = visible_text(page)
    assert "No recordings are held" not in text
    assert f"but {known.customer_ref} differs from it only in letter case" in text
    field = re.search(r'<input id="customer_ref"[^>]*>', page)
    assert field is not None and 'aria-invalid="true"' in field[0]
    assert "Register a request" not in text  # it would only be refused
