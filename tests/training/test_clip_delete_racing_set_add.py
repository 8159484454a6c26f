"""A clip's author deleting it while another trainer adds it to their own set: the deletion found no other set
(the add was not committed) and deleted the row while the add's item was being inserted, a foreign-key violation
(a 500) on PostgreSQL, whichever came first. Both now hold the clip's row (the add after its set's, as every change
to a set's clips): an add that comes second waits and finds the clip gone (404 `clip_not_found`), a deletion that
comes second waits and finds the other trainer's set, keeping the clip's place there (`deleted_by_owner`).
PostgreSQL only: SQLite has one writer at a time."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from recordings_service.audit import Actor
from recordings_service.errors import DomainError
from recordings_service.models import TrainingClip
from recordings_service.runtime import SESSION_ENVELOPE
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from recordings_service.training import clips, sets
from recordings_service.training_rules import TrainingRules
from tests.factories.postgres_races import private_engine, wait_until_blocked
from tests.factories.training import clip_row, trainer, training_call

pytestmark = pytest.mark.postgres
RULES = TrainingRules()


@dataclass(frozen=True)
class Scene:
    sessions: sessionmaker[Session]
    author: Actor
    other: Actor
    clip_id: str
    set_id: str  # the other trainer's, holding one clip of their own

    def delete(self, session: Session) -> object:
        return clips.delete_clip(session, actor=self.author, clip_id=self.clip_id)

    def add(self, session: Session) -> object:
        """The set page's "add a clip at the end" of the other trainer."""
        order = [item.clip_id for item in sets.load_set(session, actor=self.other, set_id=self.set_id, lock=True).items]
        return sets.update_set(
            session,
            session.info[SESSION_ENVELOPE],
            actor=self.other,
            set_id=self.set_id,
            clip_ids=[*order, self.clip_id],
            rules=RULES,
        )


@pytest.fixture
def scene(store: ObjectStore, envelope: Envelope) -> Iterator[Scene]:
    with private_engine("t_clip_del_race_") as engine:
        sessions = sessionmaker(engine, expire_on_commit=False, info={SESSION_ENVELOPE: envelope})
        with sessions() as session:
            author, other = trainer(session), trainer(session)
            recording = training_call(session, store, envelope)
            clip_id = clip_row(session, recording, author).id
            own = clip_row(session, recording, other).id
            set_id = sets.create_set(
                session, envelope, actor=other, title="Closings", clip_ids=[own], rules=RULES
            ).made.id
            session.commit()
        yield Scene(sessions, author, other, clip_id, set_id)


def race(scene: Scene, first: Callable[[Session], object], second: Callable[[Session], object]) -> dict[str, Any]:
    """`first` done and not yet committed, `second` in another connection waiting for it; then `first` commits.
    What `second` came to: saved, or the domain error's `why` (anything else is what a request answered 500 for)."""
    engine = scene.sessions.kw["bind"]
    assert isinstance(engine, Engine)
    held = scene.sessions()
    first(held)
    outcome: dict[str, Any] = {}

    def run() -> None:
        with scene.sessions() as session:
            outcome["pid"] = session.execute(text("SELECT pg_backend_pid()")).scalar()
            try:
                second(session)
                session.commit()
                outcome["result"] = "saved"
            except DomainError as exc:
                outcome["result"] = exc.why
            except Exception as exc:
                outcome["result"] = type(exc).__name__

    thread = threading.Thread(target=run)
    thread.start()
    wait_until_blocked(engine, thread, outcome, what="the second change")
    held.commit()
    held.close()
    thread.join(timeout=20)
    return outcome


def test_an_add_meeting_the_clips_deletion_waits_and_finds_it_gone(scene: Scene) -> None:
    outcome = race(scene, scene.delete, scene.add)

    assert outcome["result"] == "clip_not_found"
    with scene.sessions() as session:
        assert session.get(TrainingClip, scene.clip_id) is None
        kept = sets.load_set(session, actor=scene.other, set_id=scene.set_id)
        assert scene.clip_id not in [item.clip_id for item in kept.items]


def test_a_deletion_meeting_an_add_waits_and_keeps_the_clips_place_in_the_other_set(scene: Scene) -> None:
    outcome = race(scene, scene.add, scene.delete)

    assert outcome["result"] == "saved"
    with scene.sessions() as session:
        clip = session.get_one(TrainingClip, scene.clip_id)
        assert clip.removed_reason == clips.DELETED_BY_OWNER
        kept = sets.load_set(session, actor=scene.other, set_id=scene.set_id)
        assert [item.clip_id for item in kept.items][-1] == scene.clip_id
