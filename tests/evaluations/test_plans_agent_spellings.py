"""An evaluation plan draws its number of calls per agent in any letter case and Unicode form: the calls it drew were
grouped by the agent's name exactly, so "Änna.K" sent composed and "änna.k" typed decomposed (a + U+0308) were two
agents, each drawn the plan's number (twice the quota for one agent), and the week's coverage showed two rows. Found by
the pass that keyed queues and agents canonically."""

from __future__ import annotations

import secrets
import unicodedata
from collections import Counter
from datetime import UTC, datetime, time, timedelta

from sqlalchemy.orm import Session

from recordings_service.evaluations import assignments, plans
from recordings_service.models import Recording
from recordings_service.models.recording import name_key
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.assignments import WEEK, call_in_week, make_plan
from tests.factories.evaluations import actor_of


def test_an_agent_spelt_two_ways_is_drawn_the_plans_number_of_calls_once(
    session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead = make_user(session)
    queue = "Sales-" + secrets.token_hex(3)
    spellings = ("Änna.K", unicodedata.normalize("NFD", "änna.k"), "Bob", "Bob")
    for day, agent_ref in enumerate(spellings * 2):
        call_in_week(session, store, envelope, queue=queue, agent_ref=agent_ref, day=day % 7)
    plan = make_plan(session, actor_of(lead), supervisors=[lead], queue=queue, calls_per_agent=2)

    result = plans.fill_plan(session, actor=actor_of(lead), plan_id=plan.id, week=WEEK)

    assert Counter(name_key(item.agent_ref) for item in result.assignments) == {"änna.k": 2, "bob": 2}
    covered = {name_key(row.agent_ref): row.planned for row in assignments.coverage(session, week=WEEK)}
    assert covered["änna.k"] == 2


def test_a_top_up_counts_what_the_fill_planned_for_the_agent_however_the_new_calls_spell_them(
    session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead = make_user(session)
    queue = "Sales-" + secrets.token_hex(3)
    for _ in range(2):
        call_in_week(session, store, envelope, queue=queue, agent_ref="Änna.K", day=1)
    plan = make_plan(session, actor_of(lead), supervisors=[lead], queue=queue, calls_per_agent=2)
    actor = actor_of(lead)
    first = plans.fill_plan(session, actor=actor, plan_id=plan.id, week=WEEK, now=_at(0))
    session.get_one(Recording, first.assignments[0].recording_id).restricted = True  # one planned call to replace
    for _ in range(2):  # arriving since, typed decomposed in small letters
        call_in_week(session, store, envelope, queue=queue, agent_ref=unicodedata.normalize("NFD", "änna.k"), day=6)
    session.flush()

    topped = plans.fill_plan(session, actor=actor, plan_id=plan.id, week=WEEK, now=_at(2))

    assert topped.added == 1
    covered = [(name_key(row.agent_ref), row.planned) for row in assignments.coverage(session, week=WEEK)]
    assert [row for row in covered if row[0] == "änna.k"] == [("änna.k", 2)]


def _at(day: int) -> datetime:
    """Noon UTC on `day` (0 = Monday) of the plan's week."""
    return datetime.combine(plans.week_monday(WEEK) + timedelta(days=day), time(12), tzinfo=UTC)
