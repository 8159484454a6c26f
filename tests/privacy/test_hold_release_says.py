"""Releasing a hold says when its calls stay held by another, and the trail names what the release concerned.

Found by exploratory testing: releasing a customer's hold said only "Legal hold released." while a hold on one of
the calls still kept it from deletion, and `legal_hold.released` carried no details at all (which call or customer,
how many calls), where `legal_hold.placed` names them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import AuditEvent, LegalHold
from recordings_service.models.account import Role
from recordings_service.privacy import holds
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user, post_form
from tests.factories.privacy import OFFICER, aged_call, customer

LONG_AGO = datetime.now(UTC) - timedelta(days=800)


def test_a_release_names_the_calls_another_hold_keeps(
    client: FlaskClient, session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    disputed = customer(session)
    calls = [
        aged_call(session, bucket, envelope, started_at=LONG_AGO, purposes=[], customer_id=disputed.id)
        for _ in range(2)
    ]
    on_customer = holds.place_hold(session, actor=OFFICER, reason="dispute", customer_ref=disputed.customer_ref).hold
    on_call = holds.place_hold(session, actor=OFFICER, reason="court", recording_id=calls[0].id).hold
    login(client, make_user(session, role=Role.COMPLIANCE))

    released = post_form(
        client, f"/compliance/holds/{on_customer.id}/release", {"reason": "settled"}, token_from="/compliance/holds"
    )
    assert released.status_code == 302
    page = client.get("/compliance/holds").get_data(as_text=True)
    assert "Legal hold released; 1 recording stays held by another hold." in page
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "legal_hold.released")).one()
    assert event.details == {
        "recording_id": None,
        "customer_id": disputed.id,
        "recordings": 2,
        "covered_recordings": ",".join(sorted(call.id for call in calls)),  # each call's trail lists the release
        "still_held": 1,
    }

    post_form(client, f"/compliance/holds/{on_call.id}/release", {"reason": "ruled"}, token_from="/compliance/holds")
    page = client.get("/compliance/holds").get_data(as_text=True)
    assert "Legal hold released." in page and "stays held" not in page
    last = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "legal_hold.released").order_by(AuditEvent.seq.desc())
    ).first()
    assert last is not None
    assert last.details == {
        "recording_id": calls[0].id,
        "customer_id": None,
        "recordings": 1,
        "covered_recordings": "",  # a hold on one call names it in recording_id
        "still_held": 0,
    }
    assert session.scalars(select(LegalHold).where(LegalHold.released_at.is_(None))).all() == []
