"""The partner portal's pages with the partner's `partner` token (a script at the institute, no browser session):
its own batch shows, and another institute's batch is refused with its audit event, as for a signed-in partner.
The pages read the institute from the signed-in session only: the token's holder saw none of its batches, and its
requests for others' were refused unaudited."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import AuditEvent
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.accounts import make_user
from tests.factories.research import as_ready, downloaded_with_partner_token, draft, institute, research_call


def test_a_partner_token_reaches_its_own_batch_and_is_refused_audited_elsewhere(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    batch, token = downloaded_with_partner_token(session, runtime)
    research_call(session, runtime.store, runtime.envelope)
    other = as_ready(draft(session, runtime, make_user(session, role=Role.COMPLIANCE), institute(session).id))
    session.commit()
    bearer = {"Authorization": f"Bearer {token}"}

    own = client.get(f"/partner/batches/{batch.id}", headers=bearer)
    listed = client.get("/partner/", headers=bearer)
    refused = client.get(f"/partner/batches/{other.id}", headers=bearer)

    assert own.status_code == 200 and batch.study in own.get_data(as_text=True)
    assert listed.status_code == 200 and f"/partner/batches/{batch.id}" in listed.get_data(as_text=True)
    assert refused.status_code == 404
    refusals = session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.object_id == other.id, AuditEvent.action == "research.partner_refused"
        )
    ).all()
    assert refusals == ["research.partner_refused"]
