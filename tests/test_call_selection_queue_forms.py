"""A research batch or training sample for a queue typed in another letter case or Unicode form ("sähkö", or "Sähkö"
with a + U+0308 as a Mac's keyboard gives it) selects the calls the call list shows for that queue: the selection
matched the queue's name exactly, so a researcher or trainer got none of the telephony system's "SÄHKÖ" calls
where the list, filtering by the queue's key, showed them all. Found by the pass that keyed queues canonically."""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from recordings_service.models import Recording
from recordings_service.models.account import Role
from recordings_service.models.recording import name_key
from recordings_service.research.selection import BatchCriteria, select_calls
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of
from tests.factories.research import research_call
from tests.factories.search import found, random_day
from tests.factories.training import sample, trainer, training_call

COMPOSED = "SÄHKÖ"
DECOMPOSED = unicodedata.normalize("NFD", "Sähkö")
TYPED = [DECOMPOSED, "sähkö", COMPOSED]


def _calls(make: Callable[..., Recording], session: Session, store: ObjectStore, envelope: Envelope) -> datetime:
    day = random_day()
    for name in (COMPOSED, DECOMPOSED, "sähkö", "Sahko"):
        make(session, store, envelope, queue=name, started_at=day)
    return day


def _listed(session: Session, day: datetime, typed: str) -> set[str]:
    """The calls the call list shows for the same queue filter."""
    listed = set(found(session, day.replace(hour=0, minute=0, second=0), queue=typed))
    assert len(listed) == 3
    return listed


@pytest.mark.parametrize("typed", TYPED, ids=ascii)
def test_a_batch_for_a_queue_typed_in_any_form_selects_what_the_call_list_shows(
    session: Session, store: ObjectStore, envelope: Envelope, typed: str
) -> None:
    day = _calls(research_call, session, store, envelope)
    dates: dict[str, Any] = {"from": day.date().isoformat(), "to": day.date().isoformat()}
    criteria = BatchCriteria.model_validate({**dates, "queues": [typed, "billing"], "sample_size": 100, "seed": 1})
    compliance = actor_of(make_user(session, role=Role.COMPLIANCE))

    chosen = select_calls(session, actor=compliance, criteria=criteria, study_end=day.date(), redacted_audio=False)

    assert {candidate.id for candidate in chosen.chosen} == _listed(session, day, typed)


@pytest.mark.parametrize("typed", TYPED, ids=ascii)
def test_a_training_sample_for_a_queue_typed_in_any_form_draws_the_calls_the_list_shows(
    session: Session, store: ObjectStore, envelope: Envelope, typed: str
) -> None:
    day = _calls(training_call, session, store, envelope)
    dates = {"from": day.date().isoformat(), "to": day.date().isoformat()}

    drawn = sample(session, envelope, trainer(session), size=10, seed=3, queues=[typed], **dates)

    assert {call.recording_id for call in drawn.calls} == _listed(session, day, typed)
    assert drawn.matched == 3


def test_a_sample_stratified_by_queue_takes_each_queue_as_one_stratum_in_any_form(
    session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    day = random_day()
    for name in ("billing",) * 6 + (COMPOSED, COMPOSED, DECOMPOSED, DECOMPOSED):
        training_call(session, store, envelope, queue=name, started_at=day)
    dates = {"from": day.date().isoformat(), "to": day.date().isoformat()}

    drawn = sample(session, envelope, trainer(session), size=4, mode="stratified", stratify_by="queue", seed=5, **dates)

    assert sorted(drawn.strata.values()) == [2, 2]  # billing and "SÄHKÖ", two turns each
    assert Counter(name_key(call.queue) for call in drawn.calls) == {"billing": 2, "sähkö": 2}
    assert {name_key(call.stratum or "") for call in drawn.calls} == {"billing", "sähkö"}
