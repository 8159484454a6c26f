"""A decision on a batch whose page handler read the batch first (`web/ui/research.py`'s `_act` reads it to answer
an unknown batch with a 404; the partner's confirmation pages read theirs to refuse another institute's) waits for
another officer's decision committing at that moment, then must see it. Found by an exploratory pass, on both
databases: the locking read returned the batch the session held already, as the handler had read it, so the second
of two officers approving at once approved it again (two `research.batch_approved`), and one rejecting as the other
approved rejected the approved batch."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from recordings_service.audit import Actor
from recordings_service.errors import Conflict
from recordings_service.models import AuditEvent, ResearchBatch
from recordings_service.models.account import Role
from recordings_service.models.research import BatchState
from recordings_service.research import batches
from recordings_service.runtime import SESSION_ENVELOPE, Runtime
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of
from tests.factories.own_database import second_waits_for_first
from tests.factories.research import draft, institute, research_call

Decide = Callable[[Session, Actor, str], ResearchBatch]


def _approve(session: Session, actor: Actor, batch_id: str) -> ResearchBatch:
    return batches.approve_batch(session, actor=actor, batch_id=batch_id)


def _reject(session: Session, actor: Actor, batch_id: str) -> ResearchBatch:
    return batches.reject_batch(session, actor=actor, batch_id=batch_id, reason="the purpose is too broad")


@pytest.mark.parametrize("second", [_approve, _reject], ids=["both_approve", "one_approves_one_rejects"])
def test_a_decision_after_the_page_read_the_batch_sees_the_other_officers(
    own_engine: Engine, runtime: Runtime, second: Decide
) -> None:
    sessions = sessionmaker(own_engine, expire_on_commit=False, info={SESSION_ENVELOPE: runtime.envelope})
    with sessions() as setup:
        research_call(setup, runtime.store, runtime.envelope)
        creator = make_user(setup, role=Role.COMPLIANCE)
        first_officer, second_officer = (actor_of(make_user(setup, role=Role.COMPLIANCE)) for _ in range(2))
        batch_id = draft(setup, runtime, creator, institute(setup).id).id
        setup.commit()

    def as_the_page_does(session: Session) -> ResearchBatch:
        found = batches.get_batch(session, batch_id)  # the handler's own read, kept for its page
        decided = second(session, second_officer, batch_id)
        assert decided is found
        return decided

    outcome = second_waits_for_first(
        sessions, lambda session: _approve(session, first_officer, batch_id), as_the_page_does
    )

    assert isinstance(outcome, Conflict) and outcome.why == "not_draft", outcome
    with sessions() as check:
        batch = check.get_one(ResearchBatch, batch_id)
        assert (batch.state, batch.approved_by, batch.rejected_by) == (BatchState.APPROVED, first_officer.id, None)
        decided = select(func.count()).where(
            AuditEvent.object_id == batch_id,
            AuditEvent.action.in_(["research.batch_approved", "research.batch_rejected"]),
        )
        assert check.scalar(decided) == 1
