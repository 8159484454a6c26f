"""Two compliance officers deciding on the same draft at once (both approving, or one approving while the other
rejects) end with exactly one decision; the other is refused 409 `not_draft` with its audit event. Found by review:
on SQLite `with_for_update` locked nothing (the dialect leaves FOR UPDATE out and pysqlite begins a transaction only
at the first write), so both officers read the batch as a draft and both decisions were taken. Each officer here
holds the batch row it read until the other has had its chance to read it too: the second must wait."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
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
from tests.factories.postgres_races import private_engine
from tests.factories.research import draft, institute, research_call
from tests.factories.sqlite_files import sqlite_file_engine
from web.errors import STATUS_BY_ERROR

Decide = Callable[[Session, Actor, str], ResearchBatch]
# How long the first officer holds the row it read for the second to read it too: where the second waits for the
# lock, it never comes, and the first goes on after this.
BOTH_READ_S = 2.0


def _approve(session: Session, actor: Actor, batch_id: str) -> ResearchBatch:
    return batches.approve_batch(session, actor=actor, batch_id=batch_id)


def _reject(session: Session, actor: Actor, batch_id: str) -> ResearchBatch:
    return batches.reject_batch(session, actor=actor, batch_id=batch_id, reason="the purpose is too broad")


@contextmanager
def _own_engine(database_url: str, tmp_path: Path) -> Iterator[Engine]:
    if database_url.startswith("sqlite"):
        with sqlite_file_engine(tmp_path / "decisions.db") as engine:
            yield engine
    else:
        with private_engine("t_decide_") as engine:
            yield engine


@pytest.mark.parametrize("second", [_approve, _reject], ids=["both_approve", "one_approves_one_rejects"])
def test_two_officers_deciding_at_once_take_one_decision(
    database_url: str, tmp_path: Path, runtime: Runtime, second: Decide
) -> None:
    with _own_engine(database_url, tmp_path) as engine:
        sessions = sessionmaker(engine, expire_on_commit=False, info={SESSION_ENVELOPE: runtime.envelope})
        with sessions() as setup:
            research_call(setup, runtime.store, runtime.envelope)
            creator = make_user(setup, role=Role.COMPLIANCE)
            officers = [actor_of(make_user(setup, role=Role.COMPLIANCE)) for _ in range(2)]
            batch_id = draft(setup, runtime, creator, institute(setup).id).id
            setup.commit()

        both_read = threading.Barrier(2)

        def hold_the_batch_row(_conn: Any, statement: Any, *_rest: Any) -> None:
            if getattr(statement, "_for_update_arg", None) is not None and "research_batches" in str(statement):
                # Broken: the other officer waits for this one's lock (or has read already).
                with contextlib.suppress(threading.BrokenBarrierError):
                    both_read.wait(timeout=BOTH_READ_S)

        outcomes: dict[int, object] = {}

        def officer(index: int, decide: Decide) -> None:
            try:
                with sessions() as session:
                    decide(session, officers[index], batch_id)
                    session.commit()
                outcomes[index] = "decided"
            except Exception as exc:  # the outcome is what is checked
                outcomes[index] = exc

        event.listen(engine, "after_execute", hold_the_batch_row)
        try:
            threads = [
                threading.Thread(target=officer, args=(0, _approve)),
                threading.Thread(target=officer, args=(1, second)),
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
        finally:
            event.remove(engine, "after_execute", hold_the_batch_row)

        decided = [index for index, outcome in outcomes.items() if outcome == "decided"]
        refused = [outcome for outcome in outcomes.values() if isinstance(outcome, Conflict)]
        assert len(decided) == 1 and len(refused) == 1, outcomes
        assert refused[0].why == "not_draft" and dict(STATUS_BY_ERROR)[Conflict] == 409
        assert refused[0].refusal is not None and refused[0].refusal.details == {"rule": "not_draft"}
        with sessions() as check:
            batch = check.get(ResearchBatch, batch_id)
            assert batch is not None
            winner = officers[decided[0]]
            if batch.state == BatchState.APPROVED:
                assert batch.approved_by == winner.id and batch.rejected_by is None
            else:
                assert batch.state == BatchState.REJECTED and batch.rejected_by == winner.id
                assert batch.approved_by is None
            count = select(func.count()).select_from(AuditEvent).where(AuditEvent.object_id == batch_id)
            approved = check.scalar(count.where(AuditEvent.action == "research.batch_approved"))
            rejected = check.scalar(count.where(AuditEvent.action == "research.batch_rejected"))
            assert approved is not None and approved <= 1 and approved + (rejected or 0) == 1
