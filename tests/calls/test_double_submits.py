"""Found in review: the call list's "Add tag" and "Save search" checked whether the row existed, then inserted it. A
double-clicked button (or two supervisors tagging one call alike) sent the second request past the check before
the first committed; its insert then met the first one's row at the unique key, an IntegrityError and a 500."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.calls.saved_searches import save_search, saved_searches
from recordings_service.calls.tags import tag_calls, tags_of
from recordings_service.models import AuditEvent, CallTag, SavedSearch, User
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.accounts import make_user
from tests.factories.recordings import (
    LIVE_SOURCE,
    committed_runtime,  # noqa: F401  (a fixture)
    make_recording,
)


@pytest.fixture
def live(committed_runtime: Runtime, db_kind: str) -> Iterator[Runtime]:  # noqa: F811  (the fixture imported above)
    if db_kind != "postgresql":
        pytest.skip("SQLite has one writer at a time: the second request waits for the first to commit")
    yield committed_runtime


@pytest.fixture
def supervisor(live: Runtime) -> Iterator[Actor]:
    with live.sessions() as setup:
        user = make_user(setup, role=Role.QA_SUPERVISOR)
        setup.commit()
    yield Actor(id=user.id, name=user.username, role=Role.QA_SUPERVISOR)
    with live.sessions() as cleanup:
        cleanup.execute(delete(CallTag).where(CallTag.tagged_by == user.id))
        cleanup.execute(delete(SavedSearch).where(SavedSearch.owner_id == user.id))
        cleanup.execute(delete(User).where(User.id == user.id))
        cleanup.commit()


def sent_twice(live: Runtime, submit: Callable[[Session], object]) -> tuple[object, object]:
    """What `submit` returned in the first request, and in a second one made while the first had not committed."""
    outcome: list[object] = []

    def second() -> None:
        with live.sessions() as session:
            try:
                outcome.append(submit(session))
                session.commit()
            except Exception as exc:  # whatever it is, the assertion of the caller names it
                outcome.append(exc)

    with live.sessions() as first:
        answer = submit(first)
        racer = threading.Thread(target=second)
        racer.start()
        racer.join(timeout=1.0)  # it waits on the first one's uncommitted row
        assert racer.is_alive(), "the second request did not wait for the first"
        first.commit()
    racer.join(timeout=30)
    return answer, outcome[0]


def test_one_tag_sent_twice_at_once_tags_the_call_once(live: Runtime, supervisor: Actor) -> None:
    with live.sessions() as setup:
        call = make_recording(setup, live.store, live.envelope, audio=b"RIFF", source=LIVE_SOURCE + "-tags")
        setup.commit()

    tagged = sent_twice(
        live, lambda session: tag_calls(session, actor=supervisor, recording_ids=[call.id], tag="Escalate")
    )

    assert tagged == (1, 0)  # the second found the tag on the call
    with live.sessions() as check:
        assert tags_of(check, [call.id]) == {call.id: ["Escalate"]}
        events = select(AuditEvent).where(AuditEvent.action == "recording.tagged", AuditEvent.object_id == call.id)
        assert len(check.scalars(events).all()) == 1


def test_one_search_saved_twice_at_once_is_kept_once(live: Runtime, supervisor: Actor) -> None:
    saved = sent_twice(
        live, lambda session: save_search(session, actor=supervisor, name="Billing", query="queue=billing").id
    )

    with live.sessions() as check:
        (kept,) = saved_searches(check, actor=supervisor)
    assert saved == (kept.id, kept.id) and kept.query == "queue=billing"
