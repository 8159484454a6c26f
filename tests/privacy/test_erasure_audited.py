"""An erasure is audited as the answer to its request: the deletion receipt's event names no request, and an
erasure whose calls a legal duty all kept deleted nothing, so the audit trail showed no one answering it."""

from __future__ import annotations

from datetime import UTC, datetime

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import AuditEvent
from recordings_service.models.account import Role
from recordings_service.privacy import holds
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.privacy import OFFICER, aged_call, customer, runtime_on_bucket  # noqa: F401  (fixtures)
from tests.factories.recordings import make_token

NOW = datetime.now(UTC).replace(microsecond=0)


def test_an_erasure_that_kept_every_call_is_audited_against_its_request(
    client: FlaskClient, session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    officer = {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="compliance")}
    person = customer(session)
    held = aged_call(session, bucket, envelope, started_at=NOW, purposes=["training"], customer_id=person.id)
    holds.place_hold(session, actor=OFFICER, reason="court case", recording_id=held.id)
    session.commit()
    made = client.post(
        "/api/v1/subject-requests",
        json={"customer_ref": person.customer_ref, "kind": "erasure", "received_at": NOW.isoformat()},
        headers=officer,
    ).json

    answered = client.post(f"/api/v1/subject-requests/{made['id']}/fulfil", json={}, headers=officer)

    assert answered.status_code == 200 and answered.json["outcome"]["deleted"] == []
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "subject_request.erased", AuditEvent.object_id == made["id"])
    ).one()
    assert event.object_type == "subject_request"
    assert event.details["customer_id"] == person.id
    assert event.details["recordings"] == 0 and event.details["kept_on_legal_hold"] == 1
    assert event.details["kept_as_agreement_evidence"] == 0
    assert event.details["receipt_id"] == answered.json["outcome"]["receipt_id"]
