"""Legal holds and deletion receipts through the API, with a compliance token: shapes, refusals, audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jobs.retention import sweep
from recordings_service import tokens
from recordings_service.errors import Invalid
from recordings_service.models import AuditEvent
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import SYSTEM, make_user
from tests.factories.privacy import OFFICER, aged_call, customer, reload
from tests.factories.recordings import make_token

LONG_AGO = datetime.now(UTC) - timedelta(days=800)


@pytest.fixture
def officer(session: Session) -> dict[str, str]:
    return {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="compliance")}


def actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def test_holds_are_placed_listed_and_released(
    client: FlaskClient, session: Session, bucket: S3ObjectStore, envelope: Envelope, officer: dict[str, str]
) -> None:
    disputed = customer(session)
    calls = [
        aged_call(session, bucket, envelope, started_at=LONG_AGO, purposes=[], customer_id=disputed.id)
        for _ in range(3)
    ]
    on_customer = client.post(
        "/api/v1/legal-holds", json={"customer_ref": disputed.customer_ref, "reason": "dispute"}, headers=officer
    )
    assert on_customer.status_code == 201, on_customer.json
    assert on_customer.json["recordings"] == 3
    # The new hold as the list shows it (it was only its id and count: found by exploratory testing).
    placed = {key: value for key, value in on_customer.json.items() if key != "recordings"}
    assert placed == {
        "id": on_customer.json["id"],
        "recording_id": None,
        "customer_ref": disputed.customer_ref,
        "reason": "dispute",
        "placed_by": placed["placed_by"],
        "placed_at": placed["placed_at"],
        "released_by": None,
        "released_at": None,
        "release_reason": None,
        "active": True,
    }
    on_one = client.post("/api/v1/legal-holds", json={"recording_id": calls[0].id, "reason": "court"}, headers=officer)
    assert (on_one.status_code, on_one.json["recordings"]) == (201, 1)
    assert all(reload(session, call.id).legal_hold for call in calls)

    listed = client.get("/api/v1/legal-holds?active=true", headers=officer)
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json["items"]] == [on_one.json["id"], on_customer.json["id"]]
    assert listed.json["items"][1]["customer_ref"] == disputed.customer_ref
    assert listed.json["items"][0]["active"] is True
    first_page = client.get("/api/v1/legal-holds?limit=1", headers=officer).json
    assert [item["id"] for item in first_page["items"]] == [on_one.json["id"]]
    second_page = client.get(f"/api/v1/legal-holds?limit=1&cursor={first_page['next_cursor']}", headers=officer).json
    assert [item["id"] for item in second_page["items"]] == [on_customer.json["id"]]

    released = client.post(
        f"/api/v1/legal-holds/{on_customer.json['id']}/release", json={"reason": "settled"}, headers=officer
    )
    assert released.status_code == 200, released.json
    assert released.json["active"] is False and released.json["release_reason"] == "settled"
    # The recording with a hold of its own stays held; the others are deletable again.
    assert [reload(session, call.id).legal_hold for call in calls] == [True, False, False]
    again = client.post(
        f"/api/v1/legal-holds/{on_customer.json['id']}/release", json={"reason": "twice"}, headers=officer
    )
    assert again.status_code == 409
    assert [item["id"] for item in client.get("/api/v1/legal-holds?active=false", headers=officer).json["items"]] == [
        on_customer.json["id"]
    ]
    assert actions(session).count("legal_hold.placed") == 2 and "legal_hold.released" in actions(session)


def test_a_call_ingested_for_a_held_customer_is_held_at_once(
    session: Session, bucket: S3ObjectStore, envelope: Envelope, settings, store
) -> None:  # type: ignore[no-untyped-def]
    from recordings_service.privacy.holds import place_hold
    from tests.factories.recordings import ingest_file

    first = ingest_file(session, store, envelope, settings, customer_ref="cust-held-1").recording
    place_hold(session, actor=OFFICER, reason="dispute", customer_ref="cust-held-1")
    later = ingest_file(session, store, envelope, settings, customer_ref="cust-held-1").recording
    other = ingest_file(session, store, envelope, settings, customer_ref="cust-free-1").recording
    assert (reload(session, first.id).legal_hold, later.legal_hold, other.legal_hold) == (True, True, False)


def test_a_hold_on_a_customer_not_yet_recorded_holds_their_first_call(
    client: FlaskClient, session: Session, officer: dict[str, str], envelope: Envelope, settings, store
) -> None:  # type: ignore[no-untyped-def]
    """A hold "also covers calls ingested later"; one placed before the customer's first call was refused
    with 404 (no recordings of customer), so that call could be deleted on schedule."""
    from tests.factories.recordings import ingest_file

    early = client.post(
        "/api/v1/legal-holds", json={"customer_ref": "cust-held-early", "reason": "claim filed"}, headers=officer
    )
    assert (early.status_code, early.json["recordings"]) == (201, 0), early.json
    first = ingest_file(session, store, envelope, settings, customer_ref="cust-held-early").recording
    assert first.legal_hold is True


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "no target"}, "recording_id"),
        ({"recording_id": "01J0000000000000000000000A", "customer_ref": "c", "reason": "both"}, "recording_id"),
        ({"recording_id": "01J0000000000000000000000A"}, "reason"),
        ({"recording_id": "01J0000000000000000000000A", "reason": ""}, "reason"),
        ({"recording_id": "01J0000000000000000000000A", "reason": "x", "until": "later"}, "until"),
        ({"recording_id": 17, "reason": "x"}, "recording_id"),
        # Found by exploratory testing: an empty id was looked up and answered 404.
        ({"recording_id": "", "reason": "x"}, "recording_id"),
        ({"customer_ref": "", "reason": "x"}, "customer_ref"),
    ],
)
def test_bad_hold_requests_are_422_naming_the_field(
    client: FlaskClient, officer: dict[str, str], body: dict[str, object], field: str
) -> None:
    response = client.post("/api/v1/legal-holds", json=body, headers=officer)
    assert response.status_code == 422, response.json
    assert response.json["field"] == field


def test_unknown_recordings_are_404_and_deleted_ones_409(
    client: FlaskClient,
    session: Session,
    sessions: sessionmaker[Session],
    bucket: S3ObjectStore,
    envelope: Envelope,
    officer: dict[str, str],
) -> None:
    missing = client.post(
        "/api/v1/legal-holds", json={"recording_id": "01J0000000000000000000000A", "reason": "x"}, headers=officer
    )
    assert missing.status_code == 404
    release = client.post(
        "/api/v1/legal-holds/01J0000000000000000000000A/release", json={"reason": "x"}, headers=officer
    )
    assert release.status_code == 404
    no_reason = client.post("/api/v1/legal-holds/01J0000000000000000000000A/release", json={}, headers=officer)
    assert (no_reason.status_code, no_reason.json["field"]) == (422, "reason")

    gone = aged_call(session, bucket, envelope, started_at=LONG_AGO, purposes=["training"])
    sweep(sessions, bucket, now=datetime.now(UTC), batch=10, actor=OFFICER, dry_run=False)
    late = client.post("/api/v1/legal-holds", json={"recording_id": gone.id, "reason": "too late"}, headers=officer)
    assert late.status_code == 409


def test_receipts_are_listed_newest_first(
    client: FlaskClient,
    session: Session,
    sessions: sessionmaker[Session],
    bucket: S3ObjectStore,
    envelope: Envelope,
    officer: dict[str, str],
) -> None:
    calls = [aged_call(session, bucket, envelope, started_at=LONG_AGO, purposes=["training"]) for _ in range(2)]
    first = sweep(sessions, bucket, now=datetime.now(UTC), batch=10, actor=OFFICER, dry_run=False).receipt
    second = sweep(sessions, bucket, now=datetime.now(UTC), batch=10, actor=OFFICER, dry_run=False).receipt
    assert first is not None and second is not None
    listed = client.get("/api/v1/retention/receipts?limit=1", headers=officer)
    assert listed.status_code == 200
    (newest,) = listed.json["items"]
    assert newest["id"] == second.id and newest["recordings"] == 0
    older = client.get(f"/api/v1/retention/receipts?cursor={listed.json['next_cursor']}", headers=officer).json
    receipt = next(item for item in older["items"] if item["id"] == first.id)
    ids = sorted(call.id for call in calls)
    assert (receipt["recordings"], receipt["first_recording_id"], receipt["last_recording_id"]) == (2, ids[0], ids[1])
    assert receipt["counts"]["object_versions"] == 8 and receipt["kind"] == "sweep"
    assert receipt["duration_s"] >= 0 and receipt["finished_at"] >= receipt["started_at"]
    bad = client.get("/api/v1/retention/receipts?limit=0", headers=officer)
    assert (bad.status_code, bad.json["field"]) == (422, "limit")


def test_the_compliance_scope_covers_these_apis_only_and_lives_at_most_30_days(
    client: FlaskClient, session: Session, officer: dict[str, str]
) -> None:
    assert client.get("/api/v1/legal-holds", headers=officer).status_code == 200
    assert client.get("/api/v1/recordings", headers=officer).status_code == 403
    supervisor = {"Authorization": "Bearer " + make_token(session, role=Role.QA_SUPERVISOR, scope="read")}
    assert client.get("/api/v1/legal-holds", headers=supervisor).status_code == 403
    user = make_user(session, role=Role.COMPLIANCE)
    token, _ = tokens.create_token(session, actor=SYSTEM, user=user, scope="compliance")
    assert token.expires_at is not None
    assert timedelta(days=29) < token.expires_at - datetime.now(UTC) <= timedelta(days=30)
    with pytest.raises(Invalid) as too_long:
        tokens.create_token(session, actor=SYSTEM, user=user, scope="compliance", lifetime=timedelta(days=31))
    assert too_long.value.field == "lifetime"
