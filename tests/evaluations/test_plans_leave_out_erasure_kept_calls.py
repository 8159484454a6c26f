"""A call an erasure kept for a legal duty is for compliance only (`recordings.in_everyday_use`): a plan neither draws
it for a supervisor to evaluate nor counts it in the week's coverage once kept. Found by review after the calls list
began leaving such calls out: a plan still drew them, onto lists that no longer showed them, and the week could never
be covered."""

from __future__ import annotations

from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.evaluations import assignments, plans
from recordings_service.privacy import holds, subjects
from recordings_service.privacy.fulfilment import Answer, fulfil_request
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.assignments import WEEK, call_in_week, make_plan
from tests.factories.evaluations import actor_of
from tests.factories.privacy import OFFICER, ORG_ZONE, customer


def kept_by_erasure(session: Session, store: ObjectStore, envelope: Envelope, day: int) -> str:
    person = customer(session)
    call = call_in_week(session, store, envelope, agent_ref="agent-a", day=day, customer_id=person.id)
    holds.place_hold(session, actor=OFFICER, reason="billing dispute", recording_id=call.id)
    return person.customer_ref


def erase(session: Session, store: ObjectStore, customer_ref: str) -> None:
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=customer_ref, kind="erasure", received_at=utcnow()
    )
    fulfil_request(session, store, actor=OFFICER, request_id=request.id, answer=Answer(), zone=ORG_ZONE)
    session.flush()


def test_a_plan_leaves_out_a_call_an_erasure_kept(session: Session, store: ObjectStore, envelope: Envelope) -> None:
    lead = make_user(session)
    usable = call_in_week(session, store, envelope, agent_ref="agent-a", day=0)
    erase(session, store, kept_by_erasure(session, store, envelope, day=1))
    plan = make_plan(session, actor_of(lead), supervisors=[lead], calls_per_agent=2)

    filled = plans.fill_plan(session, actor=actor_of(lead), plan_id=plan.id, week=WEEK)

    assert [item.recording_id for item in filled.assignments] == [usable.id]


def test_a_planned_call_kept_by_an_erasure_leaves_the_weeks_coverage(
    session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead = make_user(session)
    call_in_week(session, store, envelope, agent_ref="agent-a", day=0)
    customer_ref = kept_by_erasure(session, store, envelope, day=1)
    plan = make_plan(session, actor_of(lead), supervisors=[lead], calls_per_agent=2)
    assert len(plans.fill_plan(session, actor=actor_of(lead), plan_id=plan.id, week=WEEK).assignments) == 2

    erase(session, store, customer_ref)

    assert assignments.coverage(session, week=WEEK) == [assignments.Coverage("agent-a", planned=1, evaluated=0)]
