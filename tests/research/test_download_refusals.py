"""A download tried after the batch closed inside its access window (compliance accepted the institute's word that
every copy is gone) is refused and on the batch's trail, as every other refused download is."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from jobs import research as research_jobs
from recordings_service.audit import Actor
from recordings_service.db import utcnow
from recordings_service.models import ResearchBatch
from recordings_service.research.confirmations import accept_confirmation
from recordings_service.runtime import Runtime
from recordings_service.tokens import create_token
from tests.factories.accounts import SYSTEM
from tests.factories.audit import events
from tests.factories.research import partner, research_call

MakeBatch = Callable[..., ResearchBatch]
FIELDS = {"method": "destroyed", "signer": "Dr. A. Researcher", "title": "Head of lab", "statement": "Deleted."}


def test_a_download_after_the_batch_closed_is_refused_and_audited(
    client: FlaskClient, session: Session, runtime: Runtime, approved_batch: MakeBatch, approver: Actor
) -> None:
    research_call(session, runtime.store, runtime.envelope)
    batch = approved_batch(sample_size=1)
    research_jobs.build_batches(runtime)
    _, plain = create_token(session, actor=SYSTEM, user=partner(session, batch.institute_id), scope="partner")
    session.commit()
    lab = {"Authorization": f"Bearer {plain}"}
    package = f"/api/v1/research/batches/{batch.id}/package"
    assert client.get(package, headers=lab).data  # read to its end, as `batch.downloaded` records what went out
    confirmation = {**FIELDS, "date": utcnow().date().isoformat()}
    assert (
        client.post(f"/api/v1/research/batches/{batch.id}/confirmation", data=confirmation, headers=lab).status_code
        == 201
    )
    accept_confirmation(session, actor=approver, batch_id=batch.id)
    session.commit()

    again = client.get(package, headers=lab)

    assert again.status_code == 409 and again.get_json()["error"] == "conflict"
    assert "closed" in again.get_json()["message"]
    assert [e.details["rule"] for e in events(session, "research.download_refused", batch.id)] == ["not_ready"]
    assert len(events(session, "batch.downloaded", batch.id)) == 1
