"""A partner's or officer's browser session fetches the package and certificates only from Callvault's own pages.

Found by exploratory testing: another site's page (a link or an image pointing at the download) made the
signed-in partner's browser fetch the package; it was served and audited as the institute's download, so a batch
nobody there had downloaded owed a confirmation and was no longer closed as never downloaded. Certificates
(the signer's name and signature) were served to such requests too."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from jobs import research as research_jobs
from recordings_service.models import ResearchBatch
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from recordings_service.tokens import create_token
from tests.factories.accounts import SYSTEM, make_user
from tests.factories.audit import events
from tests.factories.research import partner, research_call
from tests.factories.staff import client_of

MakeBatch = Callable[..., ResearchBatch]


@pytest.fixture
def ready(session: Session, runtime: Runtime, approved_batch: MakeBatch) -> ResearchBatch:
    research_call(session, runtime.store, runtime.envelope)
    batch = approved_batch()
    research_jobs.build_batches(runtime)
    session.refresh(batch)
    assert batch.state == "ready"
    return batch


def test_another_sites_request_for_the_package_is_refused_audited_and_no_download(
    app: Flask, session: Session, ready: ResearchBatch
) -> None:
    holder = partner(session, ready.institute_id)
    session.commit()
    browser = client_of(app, holder)
    url = f"/api/v1/research/batches/{ready.id}/package"

    refused = browser.get(url, headers={"Sec-Fetch-Site": "cross-site"})

    assert refused.status_code == 403 and refused.get_json()["error"] == "forbidden"
    [denied] = events(session, "access.denied", ready.id)
    assert denied.actor_id == holder.id and denied.details["reason"] == "cross_site"
    assert events(session, "batch.downloaded", ready.id) == []
    session.refresh(ready)
    assert ready.downloads == 0

    # The portal's own link, a typed address, and a script's token are served.
    # Each body read to its end: `batch.downloaded` records the bytes that went out.
    assert browser.get(url, headers={"Sec-Fetch-Site": "same-origin"}).data
    assert browser.get(url, headers={"Sec-Fetch-Site": "none"}).data
    _, plain = create_token(session, actor=SYSTEM, user=partner(session, ready.institute_id), scope="partner")
    session.commit()
    token = {"Authorization": f"Bearer {plain}", "Sec-Fetch-Site": "cross-site"}
    assert browser.application.test_client().get(url, headers=token).data
    assert len(events(session, "batch.downloaded", ready.id)) == 3


@pytest.mark.parametrize(
    "path", ["/research/confirmations/{id}/certificate", "/api/v1/research/confirmations/{id}/certificate"]
)
def test_another_sites_request_for_a_certificate_is_refused_before_it_is_looked_up(
    app: Flask, session: Session, path: str
) -> None:
    officer = make_user(session, role=Role.COMPLIANCE)
    session.commit()
    browser = client_of(app, officer)
    url = path.format(id="01JCONFIRMATIONXXXXXXXXXXX")

    assert browser.get(url, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403

    [denied] = events(session, "access.denied", "01JCONFIRMATIONXXXXXXXXXXX")
    assert denied.actor_id == officer.id and denied.details["reason"] == "cross_site"
    assert browser.get(url, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 404
