"""A trainer's word search and a sample's words match only the calls trainers may use. Found by a verification pass:
`GET /api/v1/search?q=…` by a trainer listed calls taken out of training (their customer objected to marketing,
asked for erasure) among the calls saying the words, so the trainer learned what those calls say, snippets or not.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.calls.search import SearchFilters, search_calls
from recordings_service.db import utcnow
from recordings_service.models import Customer, Recording, SubjectRequest
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from recordings_service.training.eligibility import Exclusion, exclusions_of
from recordings_service.training_rules import TrainingRules, usable_for_training
from tests.factories.accounts import make_user
from tests.factories.staff import client_of
from tests.factories.training import CALL_DAY, sample, supervisor, trainer, training_call

DAY = {"started_from": CALL_DAY - timedelta(hours=1), "started_to": CALL_DAY + timedelta(hours=1)}


def _customer(session: Session, **flags: bool) -> Customer:
    row = Customer(customer_ref="cust-" + secrets.token_hex(5), **flags)
    session.add(row)
    session.flush()
    return row


def _library(session: Session, store: ObjectStore, envelope: Envelope) -> dict[str, Recording]:
    """One call trainers may use, one not transcribed yet, and one left out for each other reason; all say
    "contract" (the factory's transcript)."""
    erasing = _customer(session)
    session.add(
        SubjectRequest(
            customer_id=erasing.id, kind="erasure", received_at=CALL_DAY, due_at=CALL_DAY + timedelta(days=30)
        )
    )

    def call(**overrides: object) -> Recording:
        return training_call(session, store, envelope, queue="library-" + secrets.token_hex(3), **overrides)

    calls = {
        "usable": call(),
        "usable_objects_to_research": call(customer_id=_customer(session, objects_to_research=True).id),
        "not_transcribed": call(transcribed=False),
        "no_training_purpose": call(purposes=["verification", "quality_study"]),
        "no_notice": call(notice_given=False),
        "objects_to_marketing": call(customer_id=_customer(session, objects_to_marketing=True).id),
        "erasure_requested": call(customer_id=erasing.id),
        "past_retention": call(retain_until=utcnow() - timedelta(days=1), legal_hold=True),
    }
    session.commit()
    return calls


@pytest.mark.parametrize("honours_research_objection", [False, True])
def test_the_clause_selects_exactly_the_calls_the_per_call_rules_let_trainers_use(
    session: Session, store: ObjectStore, envelope: Envelope, honours_research_objection: bool
) -> None:
    rules = TrainingRules(honours_research_objection=honours_research_objection)
    calls = _library(session, store, envelope)
    ids = [call.id for call in calls.values()]

    by_clause = set(session.scalars(select(Recording.id).where(Recording.id.in_(ids), usable_for_training(rules))))

    by_rules = {
        recording_id
        for recording_id, reason in exclusions_of(session, ids, rules=rules).items()
        if reason in (None, Exclusion.NOT_TRANSCRIBED)  # the clause leaves transcription to the words' own match
    }
    assert by_clause == by_rules
    assert (calls["usable_objects_to_research"].id in by_clause) is not honours_research_objection


def test_a_trainers_word_search_lists_only_calls_trainers_may_use(
    session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    calls = _library(session, store, envelope)
    strict = TrainingRules(honours_research_objection=True)

    def found(actor: object, rules: TrainingRules | None = None, query: str = "contract") -> set[str]:
        page = search_calls(
            session, actor=actor, query=query, filters=SearchFilters(**DAY), limit=100, training_rules=rules
        )  # type: ignore[arg-type]
        return {item.recording.id for item in page.items}

    transcribed = {name for name in calls if name != "not_transcribed"}
    assert found(supervisor(session)) == {calls[name].id for name in transcribed}
    assert found(trainer(session)) == {calls["usable"].id, calls["usable_objects_to_research"].id}
    assert found(trainer(session), strict) == {calls["usable"].id}
    # Without words a trainer's list is metadata: every call in everyday use, as before (its page says which are
    # not for training and why).
    assert found(trainer(session), query="") == {call.id for call in calls.values()}


def test_a_samples_words_count_no_call_taken_out_of_training(
    session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    calls = _library(session, store, envelope)
    queues = [call.queue for call in calls.values()]

    drawn = sample(session, envelope, trainer(session), size=10, seed=5, queues=queues, words="contract")

    assert drawn.matched == drawn.eligible == 2 and drawn.excluded == {}
    assert {call.recording_id for call in drawn.calls} == {calls["usable"].id, calls["usable_objects_to_research"].id}


def test_the_search_page_and_api_keep_a_trainers_words_to_usable_calls(
    app: Flask, session: Session, runtime: Runtime
) -> None:
    calls = _library(session, runtime.store, runtime.envelope)
    browser = client_of(app, make_user(session, role=Role.TRAINER))
    window = "started_from=2026-11-10T08:00:00Z&started_to=2026-11-10T10:00:00Z"

    listed = browser.get(f"/api/v1/search?q=contract&{window}&limit=100")
    page = browser.get("/calls/?q=contract&date_from=2026-11-10&date_to=2026-11-10")

    assert listed.status_code == 200, listed.get_json()
    assert {item["recording"]["id"] for item in listed.get_json()["items"]} == {
        calls["usable"].id,
        calls["usable_objects_to_research"].id,
    }
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert calls["usable"].id in html and calls["objects_to_marketing"].id not in html
