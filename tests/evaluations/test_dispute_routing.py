"""A dispute goes to a lead who can answer it. Found by review: a dispute went to the evaluator's lead even when
that account had been disabled, so with the evaluator gone too nobody active ever saw it. A lead who cannot answer
is passed over for their own lead; a dispute nobody active could answer is refused, saying why."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.errors import Conflict
from recordings_service.evaluations import feedback
from recordings_service.models import AuditEvent, Evaluation, User
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of, make_agent_user, published_form, released
from tests.factories.recordings import make_recording


def scored_by(session: Session, store: ObjectStore, envelope: Envelope, evaluator: User) -> tuple[User, Evaluation]:
    """The agent of a call and `evaluator`'s evaluation of it, released to the agent."""
    call = make_recording(session, store, envelope, agent_ref="agent-7")
    form = published_form(session, actor_of(evaluator))
    return make_agent_user(session, "agent-7"), released(session, evaluator, form, call, ["no", "1", "yes"])


def test_a_dispute_passes_a_disabled_lead_for_their_active_lead(
    session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    head, away, evaluator = make_user(session), make_user(session), make_user(session)
    away.lead_id, evaluator.lead_id = head.id, away.id
    agent, evaluation = scored_by(session, store, envelope, evaluator)
    away.active = False
    session.flush()

    feedback.dispute(session, actor=actor_of(agent), evaluation_id=evaluation.id, comment="too harsh")

    assert [d.evaluation.id for d in feedback.dispute_queue(session, actor=actor_of(head))] == [evaluation.id]
    assert [d.evaluation.id for d in feedback.dispute_queue(session, actor=actor_of(evaluator))] == [evaluation.id]
    assert feedback.dispute_queue(session, actor=actor_of(away)) == []
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "evaluation.disputed")).one()
    assert event.details["lead_id"] == head.id
    resolved = feedback.resolve_dispute(session, actor=actor_of(head), evaluation_id=evaluation.id, note="It stands")
    assert (resolved.dispute_state, resolved.resolved_by) == ("resolved", head.id)


def test_a_dispute_nobody_active_could_answer_is_refused_saying_why(
    session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead, evaluator = make_user(session), make_user(session)
    evaluator.lead_id = lead.id
    agent, evaluation = scored_by(session, store, envelope, evaluator)
    lead.active = evaluator.active = False
    session.flush()

    with pytest.raises(Conflict, match="ask an administrator") as refused:
        feedback.dispute(session, actor=actor_of(agent), evaluation_id=evaluation.id, comment="too harsh")

    assert refused.value.why == "no_dispute_lead"
    assert (evaluation.agent_response, evaluation.dispute_state) == (None, None)
    lead.active = True  # an active lead answers for an evaluator who has left
    session.flush()
    feedback.dispute(session, actor=actor_of(agent), evaluation_id=evaluation.id, comment="too harsh")
    assert [d.evaluation.id for d in feedback.dispute_queue(session, actor=actor_of(lead))] == [evaluation.id]
