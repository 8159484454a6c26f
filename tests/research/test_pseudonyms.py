"""Pseudonyms: the same customer or agent has one pseudonym within a batch, another in every other batch,
none of them shows an id, and without the batch's key (destroyed when it closes) they cannot be recomputed."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.models import Recording
from recordings_service.research import pseudonyms
from recordings_service.research.batches import batch_items, reject_batch
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import DecryptionFailed
from tests.factories.privacy import customer
from tests.factories.research import research_call
from tests.research.conftest import MakeBatch


def test_stable_within_a_batch_unlinkable_across(session: Session, runtime: Runtime, approved_batch: MakeBatch) -> None:
    person = customer(session)
    calls = [
        research_call(session, runtime.store, runtime.envelope, customer_id=person.id, agent_ref="agent-anna")
        for _ in range(3)
    ]
    research_call(session, runtime.store, runtime.envelope, agent_ref="agent-ben")
    first, second = approved_batch(), approved_batch()
    mine = {call.id for call in calls}

    def pseudonyms_of(batch_id: str) -> tuple[set[str | None], set[str], set[str]]:
        items = [item for item in batch_items(session, batch_id) if item.recording_id in mine]
        assert len(items) == 3
        return (
            {item.customer_pseudonym for item in items},
            {item.agent_pseudonym for item in items},
            {item.call_pseudonym for item in items},
        )

    customers_1, agents_1, calls_1 = pseudonyms_of(first.id)
    customers_2, agents_2, calls_2 = pseudonyms_of(second.id)
    assert len(customers_1) == len(agents_1) == 1 and len(calls_1) == 3  # one person, one agent, three calls
    assert customers_1.isdisjoint(customers_2) and agents_1.isdisjoint(agents_2) and calls_1.isdisjoint(calls_2)
    shown = " ".join(str(value) for value in customers_1 | agents_1 | calls_1)
    assert person.id not in shown and person.customer_ref not in shown and "anna" not in shown
    assert all(call.id not in shown for call in calls)


def test_not_recomputable_without_the_key(session: Session, runtime: Runtime, approved_batch: MakeBatch) -> None:
    call: Recording = research_call(session, runtime.store, runtime.envelope, agent_ref="agent-cecilia")
    batch = approved_batch()
    [item] = [item for item in batch_items(session, batch.id) if item.recording_id == call.id]
    assert batch.pseudonym_key is not None
    key = runtime.envelope.open_secret(batch.pseudonym_key, object_id=batch.id)
    assert pseudonyms.pseudonym(key, kind="agent", value="agent-cecilia") == item.agent_pseudonym
    # Anyone without the key: a plain hash of the value, or another key, gives something else.
    plain = hashlib.sha256(b"agent-cecilia").hexdigest()
    assert plain[:16] not in item.agent_pseudonym
    assert pseudonyms.pseudonym(pseudonyms.new_key(), kind="agent", value="agent-cecilia") != item.agent_pseudonym
    # The sealed key is bound to its batch: it does not open as another batch's.
    other = approved_batch()
    assert other.pseudonym_key is not None
    with pytest.raises(DecryptionFailed):
        runtime.envelope.open_secret(batch.pseudonym_key, object_id=other.id)


def test_the_key_is_destroyed_when_the_draft_is_rejected(
    session: Session, runtime: Runtime, approved_batch: MakeBatch, approver: Actor
) -> None:
    research_call(session, runtime.store, runtime.envelope)
    draft = approved_batch(approve=False)
    rejected = reject_batch(session, actor=approver, batch_id=draft.id, reason="sample too small")
    assert rejected.pseudonym_key is None and rejected.state == "rejected"
