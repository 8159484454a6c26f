"""A research batch's whole life through the API, on real SeaweedFS and both databases: create (with the
exclusions counted), self-approval refused, approval, build, the partner's download (resumed with a Range),
the window's end (every package version gone, download refused), the partner's confirmation with a PDF,
compliance's acceptance, closed. Partner isolation and custody ride along."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from datetime import datetime, timedelta, timezone

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs import research as research_jobs
from jobs.custody import expire_batches
from recordings_service.db import utcnow
from recordings_service.models import AuditEvent, ResearchBatch
from recordings_service.models.account import Role
from recordings_service.privacy.access_package import package_recipients
from recordings_service.privacy.subjects import create_request
from recordings_service.research.lifecycle import exports_prefix
from recordings_service.runtime import Runtime
from recordings_service.tokens import create_token
from tests.factories.accounts import SYSTEM
from tests.factories.audit import events
from tests.factories.privacy import OFFICER, customer
from tests.factories.recordings import make_token
from tests.factories.research import batch_body, institute, partner, research_call
from tests.research.conftest import MakeBatch

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + token}


def partner_token(session: Session, institute_id: str) -> str:
    _, plain = create_token(session, actor=SYSTEM, user=partner(session, institute_id), scope="partner")
    session.commit()
    return plain


def audit_actions(session: Session, object_id: str) -> list[str]:
    query = select(AuditEvent.action).where(AuditEvent.object_id == object_id).order_by(AuditEvent.seq)
    return list(session.scalars(query))


def test_lifecycle(client: FlaskClient, session: Session, runtime: Runtime) -> None:
    creator = bearer(make_token(session, role=Role.COMPLIANCE, scope="research"))
    approver = bearer(make_token(session, role=Role.COMPLIANCE, scope="research"))
    made = client.post(
        "/api/v1/research/institutes",
        json={
            "name": "Tampere Service Research Lab",
            "country": "FI",
            "agreement_ref": "DPA-2026-14",
            "agreement_date": "2026-10-01",
            "contact": "lab@example.fi",
        },
        headers=creator,
    )
    assert made.status_code == 201, made.json
    assert made.json["in_eea"] is True and made.json["transfer_gap"] is None
    lab = made.json["id"]
    objector = customer(session)
    objector.objects_to_research = True
    loyal = customer(session)
    calls = [research_call(session, runtime.store, runtime.envelope, customer_id=loyal.id) for _ in range(3)]
    research_call(session, runtime.store, runtime.envelope, customer_id=objector.id)
    research_call(session, runtime.store, runtime.envelope, purposes=["verification"])
    session.commit()

    created = client.post("/api/v1/research/batches", json=batch_body(lab, sample_size=20), headers=creator)
    assert created.status_code == 201, created.json
    batch = created.json
    assert (batch["state"], batch["selected"]) == ("draft", 3)
    assert batch["excluded"] == {"objects_to_research": 1, "no_quality_study_purpose": 1}
    approve = f"/api/v1/research/batches/{batch['id']}/approve"
    refused = client.post(approve, headers=creator)
    assert refused.status_code == 403 and "four-eyes" in refused.json["message"]
    assert "research.approval_refused" in audit_actions(session, batch["id"])
    assert client.post(approve, headers=approver).json["state"] == "approved"

    research_jobs.build_batches(runtime)
    built = client.get(f"/api/v1/research/batches/{batch['id']}", headers=creator).json
    assert built["state"] == "ready", built
    assert built["progress"]["done"] == built["progress"]["total"] == 3

    lab_partner = bearer(partner_token(session, lab))
    other_partner = bearer(partner_token(session, institute(session).id))
    package_url = f"/api/v1/research/batches/{batch['id']}/package"
    # The partner's list shows its own batch with what the partner needs, and nothing of how calls were chosen or
    # left out (other customers' objections), nor the controller's staff (found by exploratory testing).
    listed = client.get("/api/v1/research/partner/batches", headers=lab_partner).json["items"]
    assert [(item["id"], item["calls"], item["package"]["sha256"]) for item in listed] == [
        (batch["id"], 3, built["package"]["sha256"])
    ]
    assert {"criteria", "excluded", "created_by", "approved_by", "objections"}.isdisjoint(listed[0])
    # Requests to act on, its own customers' (none here), without the controller's request ids.
    assert listed[0]["follow_up"] == []
    assert client.get("/api/v1/research/partner/batches", headers=other_partner).json["items"] == []
    assert client.get(package_url, headers=other_partner).status_code == 404
    assert "research.partner_refused" in audit_actions(session, batch["id"])
    assert client.get(package_url, headers=creator).status_code == 403  # compliance tokens cannot download

    whole = client.get(package_url, headers=lab_partner)
    assert whole.status_code == 200
    assert hashlib.sha256(whole.data).hexdigest() == built["package"]["sha256"]
    head = client.get(package_url, headers={**lab_partner, "Range": "bytes=0-999"})
    tail = client.get(package_url, headers={**lab_partner, "Range": "bytes=1000-"})
    assert (head.status_code, tail.status_code) == (206, 206)
    assert head.data + tail.data == whole.data
    with zipfile.ZipFile(io.BytesIO(whole.data)) as package:
        manifest = list(csv.DictReader(io.StringIO(package.read("manifest.csv").decode())))
        assert len(manifest) == len(package.namelist()) - 1
        for row in manifest:
            assert hashlib.sha256(package.read(row["path"])).hexdigest() == row["sha256"]
        text = "".join(package.read(name).decode() for name in package.namelist() if name.endswith(".json"))
        assert "131052-308T" not in text and all(call.id not in text for call in calls)
    shown = client.get(f"/api/v1/research/batches/{batch['id']}", headers=creator).json
    assert shown["downloads"] == 2 and shown["last_download_at"] is not None  # the ranged tail resumed one
    downloads = events(session, "batch.downloaded", batch["id"])
    assert [event.details["bytes"] for event in downloads] == [len(whole.data), 1000, len(whole.data) - 1000]

    custody = client.get(f"/api/v1/recordings/{calls[0].id}/custody", headers=creator).json["items"]
    assert [(row["batch_id"], row["outstanding"]) for row in custody] == [(batch["id"], True)]
    recipients = package_recipients(session, customer_id=loyal.id)
    assert [entry["recipient"] for entry in recipients] == ["Tampere Service Research Lab"]

    row = session.get_one(ResearchBatch, batch["id"])
    row.access_end = utcnow() - timedelta(minutes=1)  # the window ends
    session.commit()
    counts = expire_batches(runtime)
    assert counts["expired"] == 1 and counts["versions"] >= 1
    assert list(runtime.store.list_versions(exports_prefix(batch["id"]))) == []
    late = client.get(package_url, headers=lab_partner)
    assert late.status_code == 403 and "access window" in late.json["message"]

    confirm = f"/api/v1/research/batches/{batch['id']}/confirmation"
    fields = {"method": "destroyed", "date": utcnow().date().isoformat(), "signer": "Dr. A. Researcher"}
    fields |= {"title": "Head of lab", "statement": "Every copy was deleted from our systems."}
    not_pdf = client.post(
        confirm, data={**fields, "certificate": (io.BytesIO(b"MZ\x90"), "cert.pdf")}, headers=lab_partner
    )
    assert (not_pdf.status_code, not_pdf.json["field"]) == (422, "certificate")
    sent = client.post(confirm, data={**fields, "certificate": (io.BytesIO(PDF), "cert.pdf")}, headers=lab_partner)
    assert sent.status_code == 201, sent.json
    certificate = client.get(sent.json["certificate"], headers=creator)
    assert certificate.data == PDF
    accepted = client.post(f"/api/v1/research/batches/{batch['id']}/confirmation/accept", headers=approver)
    assert accepted.json["state"] == "closed"
    session.expire_all()
    assert session.get_one(ResearchBatch, batch["id"]).pseudonym_key is None
    custody = client.get(f"/api/v1/recordings/{calls[0].id}/custody", headers=creator).json["items"]
    assert custody[0]["outstanding"] is False


def test_non_eea_institute_needs_a_safeguard(client: FlaskClient, session: Session, runtime: Runtime) -> None:
    creator = bearer(make_token(session, role=Role.COMPLIANCE, scope="research"))
    approver = bearer(make_token(session, role=Role.COMPLIANCE, scope="research"))
    research_call(session, runtime.store, runtime.envelope)
    session.commit()
    base = {"agreement_ref": "DPA-9", "agreement_date": "2026-10-01", "contact": "lab@example.org"}
    india = client.post(
        "/api/v1/research/institutes", json={"name": "Pune lab", "country": "IN", **base}, headers=creator
    )
    assert india.json["in_eea"] is False and "safeguard" in india.json["transfer_gap"]
    no_adequacy = client.post(
        f"/api/v1/research/institutes/{india.json['id']}/safeguard", json={"kind": "adequacy"}, headers=creator
    )
    assert (no_adequacy.status_code, no_adequacy.json["error"]) == (422, "no_adequacy")
    draft = client.post("/api/v1/research/batches", json=batch_body(india.json["id"]), headers=creator).json
    refused = client.post(f"/api/v1/research/batches/{draft['id']}/approve", headers=approver)
    assert refused.status_code == 409 and "standard contractual clauses" in refused.json["message"]

    japan = client.post(
        "/api/v1/research/institutes",
        json={"name": "Osaka lab", "country": "JP", "safeguard": {"kind": "adequacy"}, **base},
        headers=creator,
    )
    assert japan.status_code == 201 and japan.json["transfer_gap"] is None
    draft = client.post("/api/v1/research/batches", json=batch_body(japan.json["id"]), headers=creator).json
    assert client.post(f"/api/v1/research/batches/{draft['id']}/approve", headers=approver).status_code == 200


def test_bad_input_names_the_field(client: FlaskClient, session: Session) -> None:
    creator = bearer(make_token(session, role=Role.COMPLIANCE, scope="research"))
    lab = institute(session).id
    session.commit()
    body = batch_body(lab)
    cases = [
        ({**body, "audio": "lossless"}, "audio"),
        ({**body, "criteria": {**body["criteria"], "seed": -1}}, "criteria.seed"),
        ({**body, "criteria": {**body["criteria"], "from": "2026-12-01"}}, "criteria.to"),
        (
            {**body, "criteria": {**body["criteria"], "min_duration_s": 90, "max_duration_s": 10}},
            "criteria.max_duration_s",
        ),
        ({**body, "access_end": body["access_start"]}, "access_end"),
        ({**body, "institute_id": "01JZZZZZZZZZZZZZZZZZZZZZZZ"}, None),
        ({**body, "metadata_fields": ["customer_ref"]}, "metadata_fields"),
        ({**body, "metadata_fields": ["call", "call", "customer"]}, "metadata_fields"),
        # Found by exploratory testing: a 500 after the batch was saved, and every list that showed it a 500.
        ({**body, "study_end": "9999-12-17"}, "study_end"),
        ({**body, "study_end": "9999-12-31"}, "study_end"),
    ]
    for sent, field in cases:
        response = client.post("/api/v1/research/batches", json=sent, headers=creator)
        if field is None:
            assert response.status_code == 404
        else:
            assert (response.status_code, response.json.get("field")) == (422, field), (sent, response.json)
    bad_country = client.post(
        "/api/v1/research/institutes",
        json={"name": "X", "country": "XX", "agreement_ref": "a", "agreement_date": "2026-10-01", "contact": "a@b.fi"},
        headers=creator,
    )
    assert (bad_country.status_code, bad_country.json["field"]) == (422, "country")
    assert client.get("/api/v1/research/batches", headers=creator).json["items"] == []
    reader = bearer(make_token(session, role=Role.QA_SUPERVISOR, scope="read"))
    assert client.get("/api/v1/research/batches", headers=reader).status_code == 403


def test_erasure_request_flags_no_batch_never_downloaded(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    """Its package is built without the customer's calls instead: the institute never receives them
    (`test_erasure_follow_up` has the batch downloaded, which is flagged)."""
    creator = bearer(make_token(session, role=Role.COMPLIANCE, scope="research"))
    approver = bearer(make_token(session, role=Role.COMPLIANCE, scope="research"))
    lab = institute(session).id
    person = customer(session)
    research_call(session, runtime.store, runtime.envelope, customer_id=person.id)
    session.commit()
    draft = client.post("/api/v1/research/batches", json=batch_body(lab), headers=creator).json
    client.post(f"/api/v1/research/batches/{draft['id']}/approve", headers=approver)
    create_request(session, actor=OFFICER, customer_ref=person.customer_ref, kind="erasure", received_at=utcnow())
    session.commit()
    shown = client.get(f"/api/v1/research/batches/{draft['id']}", headers=creator).json
    assert shown["follow_up"] == []
    again = client.post("/api/v1/research/batches", json=batch_body(lab), headers=creator).json
    assert again["excluded"] == {"erasure_requested": 1}
    custody = client.get(f"/api/v1/customers/{person.customer_ref}/custody", headers=creator).json["items"]
    assert {row["batch_id"] for row in custody} == {draft["id"]}  # the second batch selected none of them


def test_a_customer_whose_reference_has_a_slash_or_spaces_has_a_custody_record(
    client: FlaskClient, session: Session
) -> None:
    """Found by exploratory testing: ingest accepts "CRM/55", whose custody record answered the router's 404."""
    creator = bearer(make_token(session, role=Role.COMPLIANCE, scope="research"))
    customer(session, ref="CRM/55")
    session.commit()
    for path in ("CRM/55", "CRM%2F55", "%20CRM/55%20"):
        answer = client.get(f"/api/v1/customers/{path}/custody", headers=creator)
        assert (answer.status_code, answer.json) == (200, {"items": []}), path
    unknown = client.get("/api/v1/customers/CRM/56/custody", headers=creator)
    assert (unknown.status_code, unknown.json["error"]) == (404, "not_found")


def test_a_confirmation_cannot_predate_the_package(
    client: FlaskClient, session: Session, runtime: Runtime, approved_batch: MakeBatch
) -> None:
    research_call(session, runtime.store, runtime.envelope)
    session.commit()
    batch = approved_batch(sample_size=1)
    research_jobs.build_batches(runtime)
    session.refresh(batch)
    assert batch.state == "ready" and batch.built_at is not None
    lab_partner = bearer(partner_token(session, batch.institute_id))
    assert client.get(f"/api/v1/research/batches/{batch.id}/package", headers=lab_partner).status_code == 200
    confirm = f"/api/v1/research/batches/{batch.id}/confirmation"
    fields = {"method": "destroyed", "signer": "Dr. A. Researcher", "title": "Head of lab", "statement": "Deleted."}
    # Found by exploratory testing: a destruction dated years before the package was built was accepted.
    early = client.post(confirm, data={**fields, "date": "2020-01-01"}, headers=lab_partner)
    assert (early.status_code, early.json.get("field")) == (422, "date"), early.json
    built_on = batch.built_at.date().isoformat()
    sent = client.post(confirm, data={**fields, "date": built_on}, headers=lab_partner)
    assert sent.status_code == 201, sent.json


def test_once_the_partner_confirms_the_copies_are_gone_it_downloads_no_more_unless_compliance_rejects_it(
    client: FlaskClient, session: Session, runtime: Runtime, approved_batch: MakeBatch
) -> None:
    """Found by exploratory testing: with its confirmation of destruction pending, a partner could download the
    package again, a copy its own confirmation then did not cover."""
    research_call(session, runtime.store, runtime.envelope)
    session.commit()
    batch = approved_batch(sample_size=1)
    research_jobs.build_batches(runtime)
    session.refresh(batch)
    lab_partner = bearer(partner_token(session, batch.institute_id))
    package_url = f"/api/v1/research/batches/{batch.id}/package"
    assert client.get(package_url, headers=lab_partner).status_code == 200
    fields = {"method": "destroyed", "signer": "Dr. A. Researcher", "title": "Head of lab", "statement": "Deleted."}
    confirm = f"/api/v1/research/batches/{batch.id}/confirmation"
    sent = client.post(confirm, data={**fields, "date": utcnow().date().isoformat()}, headers=lab_partner)
    assert sent.status_code == 201, sent.json

    refused = client.get(package_url, headers=lab_partner)
    assert refused.status_code == 409 and "every copy was destroyed" in refused.json["message"], refused.json
    refusal = session.scalars(
        select(AuditEvent).where(AuditEvent.object_id == batch.id, AuditEvent.action == "research.download_refused")
    ).one()
    assert refusal.details["rule"] == "confirmed"

    compliance = bearer(make_token(session, role=Role.COMPLIANCE, scope="research"))
    rejected = client.post(
        f"/api/v1/research/batches/{batch.id}/confirmation/reject",
        json={"reason": "no certificate"},
        headers=compliance,
    )
    assert rejected.status_code == 200, rejected.json
    assert client.get(package_url, headers=lab_partner).status_code == 200  # custody is the partner's again


def test_bad_institute_input_names_the_field(client: FlaskClient, session: Session) -> None:
    creator = bearer(make_token(session, role=Role.COMPLIANCE, scope="research"))
    base = {"name": "Pune lab", "agreement_ref": "DPA-9", "agreement_date": "2026-10-01", "contact": "lab@example.org"}
    # Found by exploratory testing: user-assigned and reserved codes passed as countries.
    for country in ("ZZ", "AA", "QM", "XA", "EU"):
        made = client.post("/api/v1/research/institutes", json={**base, "country": country}, headers=creator)
        assert (made.status_code, made.json.get("field")) == (422, "country"), (country, made.json)
    kosovo = client.post(
        "/api/v1/research/institutes", json={**base, "name": "Pristina lab", "country": "XK"}, headers=creator
    )
    assert kosovo.status_code == 201 and kosovo.json["in_eea"] is False, kosovo.json
    future = {**base, "country": "IN", "agreement_date": "2099-01-01"}
    made = client.post("/api/v1/research/institutes", json=future, headers=creator)
    assert (made.status_code, made.json.get("field")) == (422, "agreement_date"), made.json
    later_clauses = {**base, "country": "IN", "safeguard": {"kind": "scc", "reference": "SCC-1", "date": "2099-01-01"}}
    made = client.post("/api/v1/research/institutes", json=later_clauses, headers=creator)
    assert (made.status_code, made.json.get("field")) == (422, "safeguard.date"), made.json

    india = client.post("/api/v1/research/institutes", json={**base, "country": "in"}, headers=creator).json
    safeguard = f"/api/v1/research/institutes/{india['id']}/safeguard"
    cases = [
        # Found by exploratory testing: a blank reference cleared the transfer gap.
        ({"kind": "scc", "reference": "   ", "date": "2026-01-01"}, "reference"),
        ({"kind": "scc", "reference": "SCC-2021/914", "date": "2099-01-01"}, "date"),
        ({"kind": "scc", "reference": "SCC-2021/914"}, "date"),
    ]
    for sent, field in cases:
        refused = client.post(safeguard, json=sent, headers=creator)
        assert (refused.status_code, refused.json.get("field")) == (422, field), (sent, refused.json)
    assert client.get(f"/api/v1/research/institutes/{india['id']}", headers=creator).json["transfer_gap"]
    today = utcnow().date().isoformat()
    recorded = client.post(
        safeguard, json={"kind": "scc", "reference": " SCC-2021/914 ", "date": today}, headers=creator
    )
    assert recorded.status_code == 200 and recorded.json["transfer_gap"] is None
    assert recorded.json["safeguard"]["reference"] == "SCC-2021/914"


def test_bad_list_query_names_the_field(client: FlaskClient, session: Session) -> None:
    creator = bearer(make_token(session, role=Role.COMPLIANCE, scope="research"))
    # Found by exploratory testing: an unknown state listed nothing, a made-up cursor listed from the start.
    for query, field in [("state=bogus", "state"), ("cursor=garbage", "cursor"), ("cursor=" + "Z" * 26, "cursor")]:
        response = client.get(f"/api/v1/research/batches?{query}", headers=creator)
        assert (response.status_code, response.json.get("field")) == (422, field), (query, response.json)
    assert client.get("/api/v1/research/batches?state=ready", headers=creator).json["items"] == []


def test_a_batch_created_with_a_local_offset_reads_the_same_when_created_and_read_back(
    client: FlaskClient, session: Session
) -> None:
    """Found by exploratory testing: created with `+02:00` times, the answer gave `overdue_from` 00:00+02:00 (and
    the window in that offset) while every later read said 00:00 UTC, two hours later."""
    creator = bearer(make_token(session, role=Role.COMPLIANCE, scope="research"))
    body = batch_body(institute(session).id)
    helsinki = timezone(timedelta(hours=2))
    for name in ("access_start", "access_end"):
        body[name] = datetime.fromisoformat(body[name]).astimezone(helsinki).isoformat()
    session.commit()
    made = client.post("/api/v1/research/batches", json=body, headers=creator)
    assert made.status_code == 201, made.json
    read = client.get(f"/api/v1/research/batches/{made.json['id']}", headers=creator).json
    times = ("access_start", "access_end", "overdue_from")
    assert {name: made.json[name] for name in times} == {name: read[name] for name in times}
    assert made.json["overdue_from"].endswith("T00:00:00+00:00")
    assert datetime.fromisoformat(made.json["access_end"]) == datetime.fromisoformat(body["access_end"])
