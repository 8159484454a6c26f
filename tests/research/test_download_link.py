"""The partner API's `package.download`: a link while the package endpoint would answer with the package, null
whenever it would refuse (window not open or over, a confirmation pending, expired, closed), so an integrator
never follows a link into a refusal."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from jobs import research as research_jobs
from jobs.custody import expire_batches
from recordings_service.db import utcnow
from recordings_service.models import ResearchBatch
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from recordings_service.tokens import create_token
from tests.factories.accounts import SYSTEM
from tests.factories.recordings import make_token
from tests.factories.research import partner, research_call
from tests.research.conftest import MakeBatch


def _partner_headers(session: Session, institute_id: str) -> dict[str, str]:
    _, plain = create_token(session, actor=SYSTEM, user=partner(session, institute_id), scope="partner")
    session.commit()
    return {"Authorization": "Bearer " + plain}


def _link_and_answer(client: FlaskClient, headers: dict[str, str], batch: ResearchBatch) -> tuple[str | None, int]:
    """The batch's `package.download` in the partner's list, and what the package endpoint answers now."""
    listed = client.get("/api/v1/research/partner/batches", headers=headers)
    assert listed.status_code == 200, listed.json
    (item,) = [row for row in listed.json["items"] if row["id"] == batch.id]
    answer = client.get(f"/api/v1/research/batches/{batch.id}/package", headers=headers)
    return item["package"]["download"], answer.status_code


def test_the_download_link_is_there_only_while_the_download_would_be_served(
    client: FlaskClient, session: Session, runtime: Runtime, approved_batch: MakeBatch
) -> None:
    research_call(session, runtime.store, runtime.envelope)
    session.commit()
    batch = approved_batch(sample_size=1)
    research_jobs.build_batches(runtime)
    session.refresh(batch)
    headers = _partner_headers(session, batch.institute_id)
    start, end = batch.access_start, batch.access_end

    link, status = _link_and_answer(client, headers, batch)
    assert (link, status) == (f"/api/v1/research/batches/{batch.id}/package", 200)

    batch.access_start = utcnow() + timedelta(days=1)  # the window has not opened yet
    session.commit()
    assert _link_and_answer(client, headers, batch) == (None, 403)

    # The window is over, and the expiry job (every minute) has not run yet: still `ready`, yet refused.
    batch.access_start, batch.access_end = start - timedelta(days=3), utcnow() - timedelta(seconds=5)
    session.commit()
    assert batch.state == "ready"
    assert _link_and_answer(client, headers, batch) == (None, 403)

    batch.access_start, batch.access_end = start, end
    session.commit()
    fields = {"method": "destroyed", "signer": "Dr. A. Researcher", "title": "Head of lab", "statement": "Deleted."}
    sent = client.post(
        f"/api/v1/research/batches/{batch.id}/confirmation",
        data={**fields, "date": utcnow().date().isoformat()},
        headers=headers,
    )
    assert sent.status_code == 201, sent.json
    assert _link_and_answer(client, headers, batch) == (None, 409)  # awaiting compliance's decision

    batch.access_end = utcnow() - timedelta(seconds=1)
    session.commit()
    expire_batches(runtime)
    session.refresh(batch)
    assert batch.state == "expired"
    assert _link_and_answer(client, headers, batch)[0] is None

    # Compliance sees the same link the partner would follow.
    compliance_view = client.get(f"/api/v1/research/batches/{batch.id}", headers=_compliance_headers(session))
    assert compliance_view.status_code == 200 and compliance_view.json["package"]["download"] is None


def _compliance_headers(session: Session) -> dict[str, str]:
    return {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="research")}
