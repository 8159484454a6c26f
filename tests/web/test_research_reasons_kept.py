"""Found by exploratory testing: a compliance officer's reason for rejecting a research batch (or for sending a
partner's custody confirmation back), refused as too long, came back as a flash above an empty field: the reason
typed was gone and the field not marked. The batch page now comes back with the reason as typed, marked, and why."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.models import ResearchBatch
from recordings_service.models.account import Role
from recordings_service.models.research import BatchState
from recordings_service.research import confirmations
from recordings_service.runtime import Runtime
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of
from tests.factories.research import as_ready, downloaded, draft, institute, partner
from tests.factories.staff import client_of
from tests.page_text import visible_text
from tests.web.reader_language import post_finnish

TOO_LONG = "R" * 2001


def assert_kept_and_marked(sent_page: str, input_id: str, error_id: str) -> None:
    field = re.search(rf'<input id="{input_id}"[^>]*>', sent_page)
    assert field is not None
    assert f'value="{TOO_LONG}"' in field[0]
    assert f'aria-invalid="true" aria-describedby="{error_id}"' in field[0]
    assert "enintään 2000 merkkiä" in visible_text(sent_page)


def test_a_rejection_reason_refused_is_kept_beside_its_field(
    app: Flask, session: Session, runtime: Runtime, officer_client: FlaskClient
) -> None:
    made = draft(session, runtime, make_user(session, role=Role.COMPLIANCE), institute(session).id)
    session.commit()
    path = f"/research/batches/{made.id}"

    sent = post_finnish(officer_client, f"{path}/reject", {"reason": TOO_LONG}, token_from=path)

    assert sent.status_code == 422
    assert_kept_and_marked(sent.get_data(as_text=True), "reject-reason", "reject-error")
    session.expire_all()
    assert session.get_one(ResearchBatch, made.id).state == BatchState.DRAFT


def test_a_confirmation_sent_back_with_a_reason_refused_keeps_it_beside_its_field(
    app: Flask, session: Session, runtime: Runtime
) -> None:
    lab = institute(session)
    batch = as_ready(draft(session, runtime, make_user(session, role=Role.COMPLIANCE), lab.id))
    downloaded(session, batch)
    holder = partner(session, lab.id)
    confirmations.submit_confirmation(
        session,
        runtime.store,
        runtime.envelope,
        actor=actor_of(holder),
        batch_id=batch.id,
        method="destroyed",
        confirmed_on=utcnow().date(),
        signer="Dr Lab",
        title="Head of research",
        statement="All copies destroyed.",
    )
    session.commit()
    client = client_of(app, make_user(session, role=Role.COMPLIANCE))
    path = f"/research/batches/{batch.id}"

    sent = post_finnish(client, f"{path}/confirmation/reject", {"reason": TOO_LONG}, token_from=path)

    assert sent.status_code == 422
    assert_kept_and_marked(sent.get_data(as_text=True), "confirmation-reason", "confirmation-reject-error")
    assert confirmations.confirmations_of(session, batch.id)[0].decision is None
