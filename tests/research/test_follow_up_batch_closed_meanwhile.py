"""A follow-up is not flagged on a batch that closed between being chosen and being locked. Found by review: a
confirmation accepted in that moment closed the batch and forgot its pseudonyms, and the flag written then named
`None` for a call, which made the batch's API answer 500 and its pages print "None" for good."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.models import ResearchBatch, User
from recordings_service.models.research import ClosedReason
from recordings_service.privacy.subjects import create_request
from recordings_service.research import follow_ups
from recordings_service.runtime import Runtime
from tests.factories.privacy import OFFICER, customer
from tests.factories.research import as_ready, downloaded, draft, institute, research_call
from tests.factories.staff import client_of


def test_a_batch_closed_before_it_is_locked_gets_no_follow_up(
    app: Flask, session: Session, runtime: Runtime, officer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = customer(session)
    research_call(session, runtime.store, runtime.envelope, customer_id=person.id)
    batch = as_ready(draft(session, runtime, officer, institute(session).id))
    downloaded(session, batch)
    locking: Callable[..., Any] = follow_ups._locked

    def closed_first(inner: Session, batch_ids: set[str]) -> list[ResearchBatch]:
        # The confirmation accepted in the moment between choosing the batches and locking them.
        inner.get_one(ResearchBatch, batch.id).close(ClosedReason.CONFIRMED, at=utcnow(), by=None)
        inner.flush()
        return list(locking(inner, batch_ids))

    monkeypatch.setattr(follow_ups, "_locked", closed_first)

    # Registering the erasure request flags the batches holding the customer's calls (`follow_ups.flag_erasure`).
    create_request(session, actor=OFFICER, customer_ref=person.customer_ref, kind="erasure", received_at=utcnow())
    session.commit()

    assert session.get_one(ResearchBatch, batch.id).follow_up == []
    assert client_of(app, officer).get(f"/api/v1/research/batches/{batch.id}").status_code == 200
