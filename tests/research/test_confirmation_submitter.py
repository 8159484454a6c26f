"""Compliance sees which partner account submitted a confirmation of return or destruction, in the API and on
the batch's page, not only on the audit trail: the signer typed on the form is a name, the account is who vouched.

Found by review: the confirmation showed the signer and title typed on the form but not the account that sent it."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from jobs import research as research_jobs
from recordings_service.db import utcnow
from recordings_service.models import ResearchBatch, User
from recordings_service.runtime import Runtime
from recordings_service.tokens import create_token
from tests.factories.accounts import SYSTEM
from tests.factories.research import partner, research_call
from tests.factories.staff import client_of

MakeBatch = Callable[..., ResearchBatch]
FIELDS = {"method": "destroyed", "signer": "Dr. A. Researcher", "title": "Head of lab", "statement": "Deleted."}


def test_the_confirmation_names_the_partner_account_that_submitted_it(
    app: Flask, client: FlaskClient, session: Session, runtime: Runtime, approved_batch: MakeBatch, officer: User
) -> None:
    research_call(session, runtime.store, runtime.envelope)
    batch = approved_batch(sample_size=1)
    research_jobs.build_batches(runtime)
    sender = partner(session, batch.institute_id)
    _, plain = create_token(session, actor=SYSTEM, user=sender, scope="partner")
    session.commit()
    lab = {"Authorization": f"Bearer {plain}"}
    assert client.get(f"/api/v1/research/batches/{batch.id}/package", headers=lab).status_code == 200

    sent = client.post(
        f"/api/v1/research/batches/{batch.id}/confirmation",
        data={**FIELDS, "date": utcnow().date().isoformat()},
        headers=lab,
    )

    assert sent.status_code == 201, sent.json
    assert sent.json["submitted_by"] == sender.username
    [listed] = client.get("/api/v1/research/partner/batches", headers=lab).json["items"]
    assert [c["submitted_by"] for c in listed["confirmations"]] == [sender.username]
    officer_client = client_of(app, officer)
    shown = officer_client.get(f"/api/v1/research/batches/{batch.id}").json
    assert [c["submitted_by"] for c in shown["confirmations"]] == [sender.username]
    page = officer_client.get(f"/research/batches/{batch.id}").get_data(as_text=True)
    submitted = page.split('<dd class="submitted">', 1)[1].split("</dd>", 1)[0]
    assert sender.username in submitted
