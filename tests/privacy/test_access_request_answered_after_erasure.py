"""A customer asks for a copy of their calls and for their erasure, and the erasure is carried out while the copy is
still being built. Found by exploratory testing: the package was withdrawn with the erased calls, and the access
request, still open, could be neither answered (its page offered no package, only "Withdraw the request", which is
for a request registered by mistake) nor fulfilled again (409 `package_withdrawn`): it went overdue with the customer
never answered. Now the package is built anew from what the erasure kept."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs import subject_access
from recordings_service.models import AuditEvent, SubjectRequest
from recordings_service.models.account import Role
from recordings_service.privacy import package_queue
from recordings_service.runtime import Runtime
from tests.factories.privacy import aged_call, customer, runtime_on_bucket  # noqa: F401  (fixtures)
from tests.factories.recordings import make_token

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def officer(session: Session) -> dict[str, str]:
    return {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="compliance")}


@pytest.mark.parametrize("builder", ["queued", "building"])
def test_an_access_request_still_being_built_when_the_customer_is_erased_is_answered_with_what_was_kept(
    client: FlaskClient, session: Session, officer: dict[str, str], runtime: Runtime, builder: str
) -> None:
    person = customer(session)
    erased = aged_call(
        session, runtime.store, runtime.envelope, started_at=NOW - timedelta(days=3), purposes=["training"],
        customer_id=person.id,
    )  # fmt: skip
    evidence = aged_call(
        session, runtime.store, runtime.envelope, started_at=NOW - timedelta(days=3), purposes=["verification"],
        agreement_made=True, customer_id=person.id,
    )  # fmt: skip
    session.commit()
    made = {}
    for kind in ("access", "erasure"):
        body = {"customer_ref": person.customer_ref, "kind": kind, "received_at": NOW.isoformat()}
        made[kind] = client.post("/api/v1/subject-requests", json=body, headers=officer).json["id"]
    access = f"/api/v1/subject-requests/{made['access']}"
    assert client.post(f"{access}/fulfil", json={}, headers=officer).status_code == 202
    claim = None
    if builder == "building":  # a jobs process has begun the package, and may have copied the call to be erased
        claim = package_queue.claim_package(session, owner="earlier-builder", lease_s=300)
        session.commit()
        assert claim is not None and claim.request_id == made["access"]

    erasure = client.post(f"/api/v1/subject-requests/{made['erasure']}/fulfil", json={}, headers=officer)

    assert erasure.status_code == 200 and erasure.json["outcome"]["deleted"] == [erased.id]
    waiting = client.get(access, headers=officer).json
    assert waiting["completed_at"] is None
    assert waiting["package"]["state"] == "queued"  # was "withdrawn", for good
    session.expire_all()
    events = select(AuditEvent).where(AuditEvent.object_id.in_([made["access"], made["erasure"]]))
    by_action = {event.action: event.details for event in session.scalars(events)}
    assert by_action["subject_access.rebuilding"] == {"reason": "erasure"}
    assert by_action["subject_request.erased"]["access_packages_rebuilt"] == 1
    if claim is not None:  # the earlier build, with the erased call in it, is never published
        assert subject_access.build_one(runtime, claim) == "lease_lost"

    subject_access.build_packages(runtime)

    answered = client.get(access, headers=officer).json
    assert answered["completed_at"] is not None and answered["package"]["state"] == "ready"
    download = client.get(f"{access}/package", headers=officer)
    assert download.status_code == 200
    package = zipfile.ZipFile(io.BytesIO(download.data))
    assert json.loads(package.read("manifest.json"))["recordings"] == [evidence.id]
    assert not any(erased.id in name for name in package.namelist())
    kept = json.loads(package.read(f"recordings/{evidence.id}/metadata.json"))["retention"]["kept_despite_erasure"]
    assert kept["erasure_request_id"] == made["erasure"]
    assert session.get_one(SubjectRequest, made["access"]).package_attempts == 1
