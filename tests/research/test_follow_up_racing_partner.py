"""A data-subject request that flags an institute's batch while the institute's partner acts on that batch (an
acknowledgement, a download): found by an exploratory pass on PostgreSQL. The request wrote its audit event, which
locks the audit chain's head to the commit, and then locked the batch; the partner had locked the batch and then
wrote its event: a deadlock, the loser's request a 500 and, where that was the officer's, the erasure request,
objection or restriction lost with it. The batches are now locked before the request writes any event."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jobs.custody import expire_batches
from recordings_service.audit import Actor, record_event
from recordings_service.db import utcnow
from recordings_service.models import ResearchBatch
from recordings_service.models.account import Role
from recordings_service.privacy.subjects import create_request
from recordings_service.runtime import Runtime
from tests.factories.accounts import make_user
from tests.factories.postgres_races import start_beside, wait_until_blocked
from tests.factories.privacy import OFFICER, customer
from tests.factories.research import as_ready, downloaded, draft, institute, research_call

pytestmark = pytest.mark.postgres
PARTNER = Actor(id=None, name="partner", role="research_partner")


def test_an_erasure_request_meeting_a_partner_holding_its_batch_waits_and_both_succeed(own: Runtime) -> None:
    with own.sessions() as setup:
        officer = make_user(setup, role=Role.COMPLIANCE)
        person = customer(setup)
        research_call(setup, own.store, own.envelope, customer_id=person.id)
        held = as_ready(draft(setup, own, officer, institute(setup).id))
        downloaded(setup, held)
        setup.commit()

    partner = own.sessions()  # the partner's acknowledgement holds the batch, then writes its event
    partner.get_one(ResearchBatch, held.id, with_for_update=True)
    officer_request, outcome = start_beside(
        own.sessions,
        lambda session: create_request(
            session, actor=OFFICER, customer_ref=person.customer_ref, kind="erasure", received_at=utcnow()
        ),
    )
    wait_until_blocked(own.engine, officer_request, outcome, what="the erasure request")
    record_event(
        partner,
        actor=PARTNER,
        action="research.follow_up_acknowledged",
        object_type="research_batch",
        object_id=held.id,
    )
    partner.commit()
    partner.close()
    officer_request.join(timeout=30)

    assert outcome.get("done") is True, outcome
    with own.sessions() as session:
        assert [flag["kind"] for flag in session.get_one(ResearchBatch, held.id).follow_up] == ["erasure"]


def test_the_expiry_job_meeting_a_partner_holding_a_batch_waits_and_both_succeed(own: Runtime) -> None:
    """The same order in the expiry job: it closed the batches nothing was downloaded from (their events locking the
    chain's head) and, in the same transaction, locked the batches to expire, one of which a partner held."""
    with own.sessions() as setup:
        officer = make_user(setup, role=Role.COMPLIANCE)
        research_call(setup, own.store, own.envelope)
        untouched = as_ready(draft(setup, own, officer, institute(setup).id, study="Never downloaded"))
        held = as_ready(draft(setup, own, officer, institute(setup).id))
        downloaded(setup, held)
        setup.commit()

    partner = own.sessions()  # the partner's confirmation holds its batch, then writes its event
    partner.get_one(ResearchBatch, held.id, with_for_update=True)
    # The job opens sessions of its own; the one it is given stays idle.
    job, outcome = start_beside(own.sessions, lambda _: expire_batches(own, now=utcnow() + timedelta(days=30)))
    job.join(timeout=3)  # it closes the undelivered batch, then waits for the partner's
    record_event(partner, actor=PARTNER, action="research.confirmation_submitted", object_type="research_batch")
    partner.commit()
    partner.close()
    job.join(timeout=30)

    assert outcome.get("done") is True and outcome["result"]["closed"] == outcome["result"]["expired"] == 1, outcome
    with own.sessions() as session:
        states = {batch_id: session.get_one(ResearchBatch, batch_id).state for batch_id in (untouched.id, held.id)}
    assert states == {untouched.id: "closed", held.id: "expired"}
