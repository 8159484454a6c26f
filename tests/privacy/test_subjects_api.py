"""The subject-requests API with a compliance token: shapes, refusals (401/403/404/409/422), fulfilment by kind,
the access package download, all against real SeaweedFS on both databases."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import UTC, datetime, timedelta, timezone

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs import subject_access
from recordings_service.models import AuditEvent, Customer
from recordings_service.models.account import Role
from recordings_service.privacy import holds
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.privacy import (
    OFFICER,
    aged_call,
    customer,
    reload,
    runtime_on_bucket,  # noqa: F401  (fixtures)
)
from tests.factories.recordings import make_token

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def officer(session: Session) -> dict[str, str]:
    return {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="compliance")}


def new_request(client: FlaskClient, officer: dict[str, str], ref: str, kind: str) -> dict[str, object]:
    response = client.post(
        "/api/v1/subject-requests",
        json={"customer_ref": ref, "kind": kind, "received_at": NOW.isoformat()},
        headers=officer,
    )
    assert response.status_code == 201, response.json
    body: dict[str, object] = response.json
    return body


def test_refusals(client: FlaskClient, session: Session, officer: dict[str, str]) -> None:
    assert client.get("/api/v1/subject-requests").status_code == 401
    reader = {"Authorization": "Bearer " + make_token(session, role=Role.QA_SUPERVISOR, scope="read")}
    assert client.get("/api/v1/subject-requests", headers=reader).status_code == 403
    ref = customer(session).customer_ref
    session.commit()
    cases = [
        ({"customer_ref": ref, "kind": "forget", "received_at": NOW.isoformat()}, "kind"),
        ({"customer_ref": ref, "kind": "access", "received_at": "2026-01-01T10:00:00"}, "received_at"),
        ({"kind": "access", "received_at": NOW.isoformat()}, "customer_ref"),
        ({"customer_ref": ref, "kind": "access", "received_at": (NOW + timedelta(days=3)).isoformat()}, "received_at"),
        # Found by exploratory testing: a request "received" in 1900 was taken, overdue by 46 000 days.
        ({"customer_ref": ref, "kind": "access", "received_at": "1900-01-01T00:00:00Z"}, "received_at"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/subject-requests", json=body, headers=officer)
        assert (response.status_code, response.json["field"]) == (422, field), body
    assert client.get("/api/v1/subject-requests/01JZZZZZZZZZZZZZZZZZZZZZZZ", headers=officer).status_code == 404
    made = new_request(client, officer, ref, "objection")
    extend = f"/api/v1/subject-requests/{made['id']}/extend"
    assert client.post(extend, json={"months": 3, "reason": "x"}, headers=officer).json["field"] == "months"
    # Found in review: JSON `true` was taken as 1 month (Python's True == 1), though a body takes each field's own
    # JSON type only.
    for not_a_number in (True, False, "1", 1.0):
        refused = client.post(extend, json={"months": not_a_number, "reason": "x"}, headers=officer)
        assert (refused.status_code, refused.json["field"]) == (422, "months"), not_a_number
    assert client.post(extend, json={"months": 2, "reason": "complex"}, headers=officer).status_code == 200
    assert client.post(extend, json={"months": 1, "reason": "again"}, headers=officer).status_code == 409
    assert client.post(f"/api/v1/subject-requests/{made['id']}/lift", headers=officer).status_code == 409
    assert client.get(f"/api/v1/subject-requests/{made['id']}/package", headers=officer).status_code == 409
    wrong_field = client.post(f"/api/v1/subject-requests/{made['id']}/fulfil", json={"metadata": {}}, headers=officer)
    assert (wrong_field.status_code, wrong_field.json["field"]) == (422, "metadata")


def test_requests_are_registered_listed_and_answered(
    client: FlaskClient, session: Session, bucket: S3ObjectStore, envelope: Envelope, officer: dict[str, str]
) -> None:
    person = customer(session)
    session.commit()
    made = new_request(client, officer, person.customer_ref, "objection")
    assert made["due_at"] > made["received_at"] and made["days_left"] >= 27 and made["overdue"] is False
    assert made["customer_ref"] == person.customer_ref and made["package"] is None
    other = new_request(client, officer, customer(session).customer_ref, "restriction")

    listed = client.get(f"/api/v1/subject-requests?customer_ref={person.customer_ref}", headers=officer).json
    assert [item["id"] for item in listed["items"]] == [made["id"]]
    fulfilled = client.post(
        f"/api/v1/subject-requests/{made['id']}/fulfil", json={"research": True, "marketing": False}, headers=officer
    )
    assert fulfilled.status_code == 200 and fulfilled.json["completed_at"] is not None
    session.expire_all()
    flags = session.scalars(select(Customer).where(Customer.id == person.id)).one()
    assert (flags.objects_to_research, flags.objects_to_marketing) == (True, False)
    open_ids = [item["id"] for item in client.get("/api/v1/subject-requests?open=true", headers=officer).json["items"]]
    assert other["id"] in open_ids and made["id"] not in open_ids
    again = client.post(f"/api/v1/subject-requests/{made['id']}/fulfil", json={"research": False}, headers=officer)
    assert again.status_code == 409


def test_a_request_reads_the_same_when_registered_and_when_read_back(
    client: FlaskClient, session: Session, officer: dict[str, str]
) -> None:
    """Found by exploratory testing: the 201 showed the times in the offset they were sent in (+02:00), every later
    read in UTC, so a client comparing the two saw the deadline change."""
    helsinki = timezone(timedelta(hours=2))
    received = (NOW - timedelta(days=2)).astimezone(helsinki)
    body = {"customer_ref": customer(session).customer_ref, "kind": "access", "received_at": received.isoformat()}
    session.commit()
    made = client.post("/api/v1/subject-requests", json=body, headers=officer).json
    read = client.get(f"/api/v1/subject-requests/{made['id']}", headers=officer).json
    times = ("received_at", "due_at", "deadline")
    assert [made[name] for name in times] == [read[name] for name in times]
    assert datetime.fromisoformat(made["received_at"]) == received


def test_erasure_through_the_api_says_what_was_kept_and_why(
    client: FlaskClient, session: Session, bucket: S3ObjectStore, envelope: Envelope, officer: dict[str, str]
) -> None:
    person = customer(session)
    held = aged_call(session, bucket, envelope, started_at=NOW, purposes=["training"], customer_id=person.id)
    gone = aged_call(session, bucket, envelope, started_at=NOW, purposes=["training"], customer_id=person.id)
    holds.place_hold(session, actor=OFFICER, reason="court case", recording_id=held.id)
    session.commit()
    made = new_request(client, officer, person.customer_ref, "erasure")

    response = client.post(f"/api/v1/subject-requests/{made['id']}/fulfil", json={}, headers=officer)

    assert response.status_code == 200, response.json
    assert response.json["outcome"]["deleted"] == [gone.id]
    assert response.json["outcome"]["kept"] == [{"recording_id": held.id, "reason": "legal_hold", "until": None}]
    assert list(bucket.list_versions(gone.storage_key)) == []
    assert list(bucket.list_versions(f"derived/{gone.id}/")) == []
    assert reload(session, held.id).status != "deleted"
    assert client.get(f"/api/v1/recordings/{gone.id}/audio", headers=officer).status_code in {403, 404}
    assert client.post(f"/api/v1/subject-requests/{made['id']}/fulfil", json={}, headers=officer).status_code == 409


def test_access_is_accepted_then_built_and_downloaded(
    client: FlaskClient,
    session: Session,
    bucket: S3ObjectStore,
    envelope: Envelope,
    runtime: Runtime,
    officer: dict[str, str],
) -> None:
    person = customer(session)
    call = aged_call(session, bucket, envelope, started_at=NOW, purposes=["training"], customer_id=person.id)
    session.commit()
    made = new_request(client, officer, person.customer_ref, "access")
    assert made["chargeable"] is False
    accepted = client.post(f"/api/v1/subject-requests/{made['id']}/fulfil", json={}, headers=officer)
    assert accepted.status_code == 202 and accepted.json["package"]["state"] == "queued"
    assert client.get(f"/api/v1/subject-requests/{made['id']}/package", headers=officer).status_code == 409

    subject_access.build_packages(runtime)

    shown = client.get(f"/api/v1/subject-requests/{made['id']}", headers=officer).json
    assert shown["package"]["state"] == "ready" and shown["package"]["download"].endswith("/package")
    download = client.get(shown["package"]["download"], headers=officer)
    assert download.status_code == 200 and download.headers["Cache-Control"] == "no-store"
    assert hashlib.sha256(download.data).hexdigest() == shown["package"]["sha256"]
    package = zipfile.ZipFile(io.BytesIO(download.data))
    assert hashlib.sha256(package.read(f"recordings/{call.id}/audio.wav")).hexdigest() == call.sha256
    downloads = session.scalars(select(AuditEvent).where(AuditEvent.action == "subject_access.downloaded")).all()
    assert [event.object_id for event in downloads] == [made["id"]]
    second = new_request(client, officer, person.customer_ref, "access")
    assert second["chargeable"] is True


def test_a_customer_ref_sent_with_spaces_around_it_names_the_customer_its_calls_have(
    client: FlaskClient, session: Session, bucket: S3ObjectStore, envelope: Envelope, officer: dict[str, str]
) -> None:
    """Found by exploratory testing: ingest strips a customer_ref's spaces, holds and requests kept them, so
    " CRM-1" named a customer of its own: an erasure was answered as done with nothing deleted, a restriction
    restricted nothing, a hold held none of the customer's calls."""
    person = customer(session)
    held, erased = (
        aged_call(session, bucket, envelope, started_at=NOW, purposes=["training"], customer_id=person.id)
        for _ in range(2)
    )
    session.commit()
    padded = f"  {person.customer_ref} "
    hold = client.post("/api/v1/legal-holds", json={"customer_ref": padded, "reason": "dispute"}, headers=officer)
    assert (hold.status_code, hold.json["recordings"]) == (201, 2), hold.json
    client.post(f"/api/v1/legal-holds/{hold.json['id']}/release", json={"reason": "settled"}, headers=officer)
    holds.place_hold(session, actor=OFFICER, reason="court case", recording_id=held.id)
    session.commit()

    made = new_request(client, officer, padded, "erasure")
    assert made["customer_ref"] == person.customer_ref
    answered = client.post(f"/api/v1/subject-requests/{made['id']}/fulfil", json={}, headers=officer)
    assert answered.json["outcome"]["deleted"] == [erased.id], answered.json
    listed = client.get("/api/v1/subject-requests", query_string={"customer_ref": padded}, headers=officer)
    assert [item["id"] for item in listed.json["items"]] == [made["id"]]
    blank = client.post(
        "/api/v1/subject-requests",
        json={"customer_ref": "   ", "kind": "access", "received_at": NOW.isoformat()},
        headers=officer,
    )
    assert (blank.status_code, blank.json["field"]) == (422, "customer_ref")
