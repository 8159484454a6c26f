"""Two changes to one set's clips at once (the owner's two tabs, or two scripts): the second cleared the places the
first had already replaced and put its own at positions the first had taken, a unique violation (a 500) on
PostgreSQL; and the page's "add a clip" read the set's order before the other change committed, so one of two
clips added at once was lost. A change to a set's clips now holds the set's row from before it reads the order:
the second waits for the first, then works on the order the first left. PostgreSQL only: SQLite has one writer
at a time."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from recordings_service.audit import Actor
from recordings_service.runtime import SESSION_ENVELOPE
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from recordings_service.training import sets
from recordings_service.training_rules import TrainingRules
from tests.factories.postgres_races import private_engine, wait_until_blocked
from tests.factories.training import clip_row, trainer, training_call

pytestmark = pytest.mark.postgres
RULES = TrainingRules()
Change = Callable[[Session, Envelope, Actor, str, list[str]], Any]


def replace_order(session: Session, envelope: Envelope, owner: Actor, set_id: str, clip_ids: list[str]) -> Any:
    """The API's PATCH: the whole new order."""
    return sets.update_set(session, envelope, actor=owner, set_id=set_id, clip_ids=clip_ids, rules=RULES)


def add_last(session: Session, envelope: Envelope, owner: Actor, set_id: str, clip_ids: list[str]) -> Any:
    """The page's "add a clip at the end": the set's order as it is now, with the clip after it."""
    order = [item.clip_id for item in sets.load_set(session, actor=owner, set_id=set_id, lock=True).items]
    return replace_order(session, envelope, owner, set_id, [*order, clip_ids[-1]])


@pytest.fixture
def engine() -> Iterator[Engine]:
    with private_engine("t_set_race_") as engine:
        yield engine


@pytest.mark.parametrize(
    ("change", "expected"),
    [(replace_order, ["first", "third"]), (add_last, ["first", "second", "third"])],
    ids=["replace_order", "add_last"],
)
def test_a_change_to_a_sets_clips_waits_for_another_and_keeps_both_apart(
    engine: Engine, store: ObjectStore, envelope: Envelope, change: Change, expected: list[str]
) -> None:
    sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False, info={SESSION_ENVELOPE: envelope})
    with sessions() as session:
        owner = trainer(session)
        recording = training_call(session, store, envelope)
        clip = {name: clip_row(session, recording, owner).id for name in ("first", "second", "third")}
        set_id = sets.create_set(
            session, envelope, actor=owner, title="Openings", clip_ids=[clip["first"]], rules=RULES
        ).made.id
        session.commit()

    first = sessions()
    change(first, envelope, owner, set_id, [clip["first"], clip["second"]])
    outcome: dict[str, Any] = {}

    def second() -> None:
        with sessions() as session:
            outcome["pid"] = session.execute(text("SELECT pg_backend_pid()")).scalar()
            try:
                change(session, envelope, owner, set_id, [clip["first"], clip["third"]])
                session.commit()
                outcome["result"] = "saved"
            except Exception as exc:  # what the request would have answered 500 for
                outcome["result"] = type(exc).__name__

    thread = threading.Thread(target=second)
    thread.start()
    wait_until_blocked(engine, thread, outcome, what="the second change")
    first.commit()
    first.close()
    thread.join(timeout=20)

    assert outcome["result"] == "saved"
    names = {clip_id: name for name, clip_id in clip.items()}
    with sessions() as session:
        kept = sets.load_set(session, actor=owner, set_id=set_id)
        assert [names[item.clip_id] for item in kept.items] == expected
