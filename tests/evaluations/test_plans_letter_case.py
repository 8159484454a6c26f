"""A plan names its queue or agent as the lead types it: it draws the calls whatever their letter case, as the
call list finds them, rather than silently drawing nothing every week."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from recordings_service.evaluations import plans
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.assignments import WEEK, call_in_week, make_plan
from tests.factories.evaluations import actor_of


@pytest.mark.parametrize(
    ("stored", "other", "typed"),
    [
        (("sales", "sales"), "billing", "SALES"),
        # Found by an exploratory pass: the database's `lower()` folds ASCII letters alone on SQLite, so a plan for
        # the queue "ääni" drew nothing from the calls of "ÄÄNI"; queues are matched by keys folded in Python.
        (("ÄÄNI", "Ääni"), "äänestys", "ääni"),
    ],
)
def test_a_plan_for_a_queue_draws_its_calls_in_any_letter_case_of_any_alphabet(
    session: Session, store: ObjectStore, envelope: Envelope, stored: tuple[str, str], other: str, typed: str
) -> None:
    lead = make_user(session)
    calls = {
        call_in_week(session, store, envelope, queue=queue, agent_ref="agent-a", day=day).id
        for day, queue in enumerate(stored)
    }
    call_in_week(session, store, envelope, queue=other, agent_ref="agent-a")
    plan = make_plan(session, actor_of(lead), supervisors=[lead], queue=typed, calls_per_agent=5)

    result = plans.fill_plan(session, actor=actor_of(lead), plan_id=plan.id, week=WEEK)

    assert {item.recording_id for item in result.assignments} == calls


@pytest.mark.parametrize(("stored", "other", "typed"), [("Agent-7", "agent-8", "agent-7"), ("ÅSA", "åsa-2", "åsa")])
def test_a_plan_for_one_agent_matches_the_agent_in_any_letter_case_of_any_alphabet(
    session: Session, store: ObjectStore, envelope: Envelope, stored: str, other: str, typed: str
) -> None:
    lead = make_user(session)
    theirs = call_in_week(session, store, envelope, queue="Sales", agent_ref=stored)
    call_in_week(session, store, envelope, queue="Sales", agent_ref=other)
    plan = make_plan(session, actor_of(lead), supervisors=[lead], queue=None, agent_ref=typed)

    result = plans.fill_plan(session, actor=actor_of(lead), plan_id=plan.id, week=WEEK)

    assert [(item.recording_id, item.agent_ref) for item in result.assignments] == [(theirs.id, stored)]
