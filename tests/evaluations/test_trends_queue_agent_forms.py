"""A queue's or agent's trends count their evaluations in any letter case and Unicode form, as the call list finds
their calls: an evaluation keeps the spelling its call came with, and the trends matched it exactly, so "SÄHKÖ" sent
composed and "Sähkö" typed decomposed (a + U+0308) were two queues on /queues, each page with part of the scores, and
"Anna.K" and "anna.k" two bars on the per-agent chart. Found by the pass that keyed queues and agents canonically."""

from __future__ import annotations

import secrets
import unicodedata
from datetime import timedelta

from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.evaluations import history, scoring, trends
from recordings_service.models.recording import name_key
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of, answers, published_form
from tests.factories.recordings import make_recording


def test_a_queue_and_an_agent_are_one_in_every_trend_however_their_calls_spell_them(
    session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    supervisor = make_user(session)
    actor = actor_of(supervisor)
    form = published_form(session, actor)
    tag = secrets.token_hex(3)
    queue, agent = f"SÄHKÖ-{tag}", f"Änna.K-{tag}"
    spelt = [(queue, agent), (unicodedata.normalize("NFD", queue.lower()), unicodedata.normalize("NFD", agent.lower()))]
    for (queue_name, agent_name), said in zip(spelt, (["yes", "4", "yes"], ["no", "2", "yes"]), strict=True):
        call = make_recording(session, store, envelope, queue=queue_name, agent_ref=agent_name)
        scoring.evaluate_call(session, actor=actor, recording_id=call.id, form_id=form.id, answers=answers(form, said))
    other = make_recording(session, store, envelope, queue=f"Sahko-{tag}", agent_ref=f"Anna.K-{tag}")
    scoring.evaluate_call(
        session, actor=actor, recording_id=other.id, form_id=form.id, answers=answers(form, ["yes", "5", "yes"])
    )
    since = utcnow() - timedelta(days=7)
    typed = unicodedata.normalize("NFD", queue.title())

    assert [name for name in trends.queues_evaluated(session) if name_key(name) == name_key(queue)] in (
        [queue],
        [spelt[1][0]],
    )
    assert sum(week.count for week in trends.weekly_scores(session, weeks=2, queue=typed)) == 2
    assert sum(week.count for week in trends.weekly_critical_failures(session, weeks=2, queue=typed)) == 2
    assert {item.answers for item in trends.question_scores(session, since=since, queue=typed)} == {2}
    theirs = [item for item in trends.agent_scores(session, since=since) if name_key(item.agent_ref) == name_key(agent)]
    assert [item.count for item in theirs] == [2]  # one agent, named by their first spelling
    assert sum(week.count for week in trends.weekly_scores(session, weeks=2, agent_ref=agent.lower())) == 2
    assert len(history.agent_evaluations(session, actor=actor, agent_ref=agent.lower())) == 2
