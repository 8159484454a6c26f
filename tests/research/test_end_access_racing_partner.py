"""Ending one batch's access early while an institute's partner acts on another batch whose window has just ended
(its `batch.downloaded` once the answer stopped, a confirmation, an acknowledgement): found by an exploratory pass
of research custody on PostgreSQL. `end_access` wrote its audit event, which locks the audit chain's head to the
commit, and then closed or expired every batch whose window had ended, locking each, as the expiry job does in one
transaction per step; the partner had locked its batch and then wrote its event: a deadlock, the loser's request a
500 and, where that was the partner's, the end of its download missing from the batch's trail. Ending access now
moves only the batch it ends on; the others are the expiry job's, within the minute."""

from __future__ import annotations

from datetime import timedelta

import pytest

from recordings_service.audit import Actor, record_event
from recordings_service.db import utcnow
from recordings_service.models import ResearchBatch
from recordings_service.models.account import Role
from recordings_service.models.research import BatchState
from recordings_service.research.early_end import end_access
from recordings_service.runtime import Runtime
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of
from tests.factories.postgres_races import start_beside
from tests.factories.research import as_ready, downloaded, draft, institute, research_call

pytestmark = pytest.mark.postgres
PARTNER = Actor(id=None, name="partner", role="research_partner")


def test_ending_access_beside_a_partner_holding_a_batch_whose_window_ended_succeeds_for_both(own: Runtime) -> None:
    with own.sessions() as setup:
        officer = make_user(setup, role=Role.COMPLIANCE)
        research_call(setup, own.store, own.envelope)
        ended = as_ready(draft(setup, own, officer, institute(setup).id, study="Suspected breach"))
        held = as_ready(draft(setup, own, officer, institute(setup).id))
        downloaded(setup, held)
        held.access_start, held.access_end = utcnow() - timedelta(days=1), utcnow() - timedelta(seconds=5)
        officer_actor = actor_of(officer)
        setup.commit()

    partner = own.sessions()  # the end of the partner's download holds its batch, then writes its event
    partner.get_one(ResearchBatch, held.id, with_for_update=True)
    ending, outcome = start_beside(
        own.sessions,
        lambda session: end_access(session, actor=officer_actor, batch_id=ended.id, reason="Breach", now=utcnow()),
    )
    ending.join(timeout=3)  # before: it wrote its event, then waited for the partner's batch
    record_event(partner, actor=PARTNER, action="batch.downloaded", object_type="research_batch", object_id=held.id)
    partner.commit()
    partner.close()
    ending.join(timeout=30)

    assert outcome.get("done") is True, outcome
    with own.sessions() as session:
        states = {batch_id: session.get_one(ResearchBatch, batch_id).state for batch_id in (ended.id, held.id)}
    # The batch ended early closed at once (nothing downloaded); the other waits for the expiry job, as any does.
    assert states == {ended.id: BatchState.CLOSED, held.id: BatchState.READY}
