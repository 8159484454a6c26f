"""A legal hold sent twice (a double click on Place hold, a client's retry) is placed once.

Found by exploratory testing: each submission placed its own hold, both listed, both audited; releasing one
said "Legal hold released." while its twin still held the calls.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.models import AuditEvent, LegalHold
from recordings_service.models.account import Role
from recordings_service.privacy import holds
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user, post_form
from tests.factories.privacy import OFFICER, aged_call, customer
from tests.factories.recordings import make_token

LONG_AGO = datetime.now(UTC) - timedelta(days=800)


def placed_events(session: Session) -> int:
    return session.scalar(select(func.count()).where(AuditEvent.action == "legal_hold.placed")) or 0


def test_the_api_answers_a_repeated_hold_with_the_one_in_force(
    client: FlaskClient, session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    officer = {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="compliance")}
    call = aged_call(session, bucket, envelope, started_at=LONG_AGO, purposes=[])
    body = {"recording_id": call.id, "reason": "Dispute 42"}
    first = client.post("/api/v1/legal-holds", json=body, headers=officer)
    again = client.post("/api/v1/legal-holds", json={**body, "reason": " Dispute 42 "}, headers=officer)
    assert (first.status_code, again.status_code) == (201, 200), (first.json, again.json)
    assert again.json == first.json and (first.json["recordings"], first.json["reason"]) == (1, "Dispute 42")
    assert session.scalar(select(func.count()).select_from(LegalHold)) == 1
    assert placed_events(session) == 1

    # Another matter on the same call is a hold of its own, released on its own.
    other = client.post("/api/v1/legal-holds", json={**body, "reason": "Court case 7"}, headers=officer)
    assert other.status_code == 201 and other.json["id"] != first.json["id"]
    # A released hold placed again is a new hold.
    client.post(f"/api/v1/legal-holds/{first.json['id']}/release", json={"reason": "settled"}, headers=officer)
    renewed = client.post("/api/v1/legal-holds", json=body, headers=officer)
    assert renewed.status_code == 201 and renewed.json["id"] not in {first.json["id"], other.json["id"]}


def test_a_customer_hold_sent_twice_from_the_page_is_one_hold(
    client: FlaskClient, session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    disputed = customer(session)
    aged_call(session, bucket, envelope, started_at=LONG_AGO, purposes=[], customer_id=disputed.id)
    login(client, make_user(session, role=Role.COMPLIANCE))
    form = {"target": "customer", "value": disputed.customer_ref, "reason": "billing dispute 2026-17"}
    first = post_form(client, "/compliance/holds", form, token_from="/compliance/holds")
    assert first.status_code == 302
    assert "Legal hold placed on 1 recording." in client.get("/compliance/holds").get_data(as_text=True)
    again = post_form(client, "/compliance/holds", form, token_from="/compliance/holds")
    assert again.status_code == 302
    page = client.get("/compliance/holds").get_data(as_text=True)
    assert "No new hold: this hold, for the same reason, is in force already." in page
    assert page.count("billing dispute 2026-17") == 1
    assert session.scalar(select(func.count()).select_from(LegalHold)) == 1
    assert placed_events(session) == 1


def test_the_service_places_one_hold_per_target_and_reason(
    session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    disputed = customer(session)
    first = holds.place_hold(session, actor=OFFICER, reason="claim", customer_ref=disputed.customer_ref)
    again = holds.place_hold(session, actor=OFFICER, reason="claim", customer_ref=f" {disputed.customer_ref} ")
    assert (first.new, again.new, again.hold.id) == (True, False, first.hold.id)
    assert holds.place_hold(session, actor=OFFICER, reason="claim", customer_ref=disputed.customer_ref).hold.id == (
        first.hold.id
    )
    assert placed_events(session) == 1
