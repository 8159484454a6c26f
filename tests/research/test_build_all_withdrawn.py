"""A build that ends with every call withdrawn closes the batch (`all_withdrawn`) instead of offering an empty package.

Found by exploratory testing of research custody: a rebuild after objections that wrote no call left the batch
`ready` with `calls: 0`; its empty ZIP was served, and downloading it made the institute owe a confirmation of the
return or destruction of nothing."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy.orm import Session

from jobs import research as research_jobs
from recordings_service.db import utcnow
from recordings_service.models import ResearchBatch
from recordings_service.research.lifecycle import batches_to_purge
from recordings_service.runtime import Runtime
from tests.factories.audit import events
from tests.factories.privacy import customer
from tests.factories.research import partner, research_call
from tests.factories.staff import client_of

MakeBatch = Callable[..., ResearchBatch]


def test_a_rebuild_with_every_call_withdrawn_closes_the_batch(
    app: Flask, session: Session, runtime: Runtime, approved_batch: MakeBatch
) -> None:
    objector = customer(session)
    research_call(session, runtime.store, runtime.envelope, customer_id=objector.id)
    batch = approved_batch(sample_size=1)
    research_jobs.build_batches(runtime)
    objector.objects_to_research = True
    session.commit()

    research_jobs.build_batches(runtime)  # built again without the call: nothing left

    session.refresh(batch)
    assert (batch.state, batch.closed_reason, batch.items_withdrawn) == ("closed", "all_withdrawn", 1)
    assert batch.pseudonym_key is None and batch.id in batches_to_purge(session, now=utcnow())
    [closed] = events(session, "research.batch_closed", batch.id)
    assert closed.details == {"reason": "all_withdrawn", "withdrawn": 1}
    lab = client_of(app, partner(session, batch.institute_id))
    [shown] = lab.get("/api/v1/research/partner/batches").json["items"]
    assert (shown["closed_reason"], shown["package"]["download"], shown["overdue_from"]) == (
        "all_withdrawn",
        None,
        None,
    )
    page = lab.get(f"/partner/batches/{batch.id}").get_data(as_text=True)
    assert "every call in it was withdrawn from the study" in page and "no confirmation is owed" in page
    assert lab.get(f"/api/v1/research/batches/{batch.id}/package").status_code == 409
