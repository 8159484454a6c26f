"""A confirmation of return or destruction cannot be dated before the package's last download: the copy made
that day was not returned or destroyed before it existed, and compliance would close the batch on it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from jobs import research as research_jobs
from recordings_service.db import utcnow
from recordings_service.models import ResearchBatch
from recordings_service.runtime import Runtime
from recordings_service.tokens import create_token
from tests.factories.accounts import SYSTEM
from tests.factories.audit import events
from tests.factories.research import partner, research_call

MakeBatch = Callable[..., ResearchBatch]
FIELDS = {"method": "destroyed", "signer": "Dr. A. Researcher", "title": "Head of lab", "statement": "Deleted."}


def test_a_confirmation_dated_before_the_last_download_is_refused_naming_the_date(
    client: FlaskClient, session: Session, runtime: Runtime, approved_batch: MakeBatch
) -> None:
    research_call(session, runtime.store, runtime.envelope)
    batch = approved_batch(sample_size=1)
    research_jobs.build_batches(runtime)
    # Built ten days ago; downloaded (again) today.
    session.execute(
        update(ResearchBatch).where(ResearchBatch.id == batch.id).values(built_at=utcnow() - timedelta(days=10))
    )
    _, plain = create_token(session, actor=SYSTEM, user=partner(session, batch.institute_id), scope="partner")
    session.commit()
    lab = {"Authorization": f"Bearer {plain}"}
    assert client.get(f"/api/v1/research/batches/{batch.id}/package", headers=lab).status_code == 200
    confirm = f"/api/v1/research/batches/{batch.id}/confirmation"
    days_ago = (utcnow() - timedelta(days=5)).date().isoformat()

    early = client.post(confirm, data={**FIELDS, "date": days_ago}, headers=lab)

    assert early.status_code == 422, early.json
    assert (early.json["error"], early.json["field"]) == ("before_last_download", "date")
    assert utcnow().date().isoformat() in early.json["message"]
    assert events(session, "research.confirmation_submitted", batch.id) == []
    today = client.post(confirm, data={**FIELDS, "date": utcnow().date().isoformat()}, headers=lab)
    assert today.status_code == 201, today.json
