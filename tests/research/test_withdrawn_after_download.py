"""A package downloaded (even in part) before one of its calls may no longer go to research is not served again.

Found by an exploratory pass over the data subjects' rights: the package was refused as outdated only while nothing
of it had been downloaded. A partner who had fetched one byte (a download broken off at once) downloaded the whole
package after the customer's objection or erasure, the call in it: a new disclosure of a call the customer had
withdrawn. The institute holds what it downloaded before (custody keeps it outstanding and flags it for follow-up);
nothing more goes out, and the package is not built again (its calls stay in custody as downloaded)."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from jobs import research as research_jobs
from recordings_service.models import ResearchBatch
from recordings_service.runtime import Runtime
from recordings_service.tokens import create_token
from tests.factories.accounts import SYSTEM
from tests.factories.audit import events
from tests.factories.privacy import customer
from tests.factories.research import partner, research_call

MakeBatch = Callable[..., ResearchBatch]


def test_a_package_begun_before_the_objection_is_not_served_again(
    client: FlaskClient, session: Session, runtime: Runtime, approved_batch: MakeBatch
) -> None:
    objector = customer(session)
    research_call(session, runtime.store, runtime.envelope, customer_id=objector.id)
    research_call(session, runtime.store, runtime.envelope, customer_id=customer(session).id)
    batch = approved_batch()
    research_jobs.build_batches(runtime)
    session.refresh(batch)
    sha256 = batch.package_sha256
    _, plain = create_token(session, actor=SYSTEM, user=partner(session, batch.institute_id), scope="partner")
    session.commit()
    lab = {"Authorization": f"Bearer {plain}"}
    url = f"/api/v1/research/batches/{batch.id}/package"
    assert client.get(url, headers={**lab, "Range": "bytes=0-0"}).status_code == 206  # broken off at once

    objector.objects_to_research = True
    session.commit()
    refused = client.get(url, headers=lab)
    research_jobs.build_batches(runtime)

    assert refused.status_code == 409 and "not served again" in refused.get_json()["message"]
    rules = [event.details["rule"] for event in events(session, "research.download_refused", batch.id)]
    assert rules == ["outdated_downloaded"]
    session.refresh(batch)
    assert (batch.state, batch.package_sha256, batch.items_withdrawn) == ("ready", sha256, 0)
    listed = client.get("/api/v1/research/partner/batches", headers=lab).get_json()["items"]
    assert [item["package"]["download"] for item in listed] == [None]
    page = client.get(f"/partner/batches/{batch.id}", headers=lab).get_data(as_text=True)
    assert "the package is not downloaded again" in page and "Download the package (ZIP)" not in page
