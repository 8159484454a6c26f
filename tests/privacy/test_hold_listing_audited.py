"""Reading the legal holds is audited, as reading a list of calls is: a hold names a customer and their dispute.

Found by reviewing the compliance pages: the holds page and `GET /api/v1/legal-holds` showed customer references
and hold reasons without leaving any trace in the audit trail.
"""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.privacy import holds
from tests.factories.accounts import login, make_user
from tests.factories.audit import events
from tests.factories.privacy import OFFICER, customer
from tests.factories.recordings import make_token


def test_the_holds_page_records_who_read_how_many_holds_and_never_the_refs(
    client: FlaskClient, session: Session
) -> None:
    disputed = customer(session)
    holds.place_hold(session, actor=OFFICER, reason="billing dispute 2026-3", customer_ref=disputed.customer_ref)
    released = holds.place_hold(
        session, actor=OFFICER, reason="claim", customer_ref=customer(session).customer_ref
    ).hold
    holds.release_hold(session, actor=OFFICER, hold_id=released.id, reason="settled")
    officer = make_user(session, role=Role.COMPLIANCE)
    login(client, officer)

    page = client.get("/compliance/holds").get_data(as_text=True)
    assert disputed.customer_ref in page
    client.get("/compliance/holds?state=all")

    listed = events(session, "legal_hold.listed")
    assert [(event.actor_id, event.object_type) for event in listed] == [(officer.id, "legal_hold")] * 2
    assert listed[0].details == {
        "results": 1,
        "customer_holds": 1,
        "recording_holds": 0,
        "state": "active",
        "next_page": False,
    }
    assert (listed[1].details["state"], listed[1].details["results"]) == ("all", 2)
    recorded = str([event.details for event in listed])
    assert disputed.customer_ref not in recorded and "billing dispute" not in recorded


def test_the_api_listing_is_audited_page_by_page(client: FlaskClient, session: Session) -> None:
    for _ in range(3):
        holds.place_hold(session, actor=OFFICER, reason="dispute", customer_ref=customer(session).customer_ref)
    officer = {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="compliance")}

    first = client.get("/api/v1/legal-holds?active=false", headers=officer)
    assert first.status_code == 200 and first.json["items"] == []
    page = client.get("/api/v1/legal-holds?limit=2", headers=officer).json
    rest = client.get(f"/api/v1/legal-holds?limit=2&cursor={page['next_cursor']}", headers=officer).json
    assert (len(page["items"]), len(rest["items"]), rest["next_cursor"]) == (2, 1, None)

    listed = events(session, "legal_hold.listed")
    assert [(event.details["state"], event.details["results"], event.details["next_page"]) for event in listed] == [
        ("released", 0, False),
        ("all", 2, False),
        ("all", 1, True),
    ]
    assert all(event.role == Role.COMPLIANCE for event in listed)
