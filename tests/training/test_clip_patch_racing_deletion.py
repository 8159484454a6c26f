"""A clip's title changed while its call is being deleted (retention sweep, erasure) came after the deletion: the
edit read the clip before the deletion committed, then its update waited for the deletion's row lock and went
through once it was released, so the trainer's words were written on a clip the deletion had blanked. The edit now
reads the call under a share lock (`still_live`), as every write about a call does: it waits for the deletion, then
finds the call deleted. PostgreSQL only: SQLite has one writer at a time."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from recordings_service.errors import NotFound
from recordings_service.models import TrainingClip
from recordings_service.privacy.deletion import delete_recording
from recordings_service.runtime import SESSION_ENVELOPE
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from recordings_service.training import clips
from tests.factories.postgres_races import private_engine, wait_until_blocked
from tests.factories.training import trainer, training_call

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine() -> Iterator[Engine]:
    with private_engine("t_clip_race_") as engine:
        yield engine


def test_a_clip_edit_that_meets_its_calls_deletion_waits_and_finds_the_call_deleted(
    engine: Engine, store: ObjectStore, envelope: Envelope
) -> None:
    sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False, info={SESSION_ENVELOPE: envelope})
    with sessions() as session:
        author = trainer(session)
        recording_id = training_call(session, store, envelope).id
        clip = TrainingClip(
            recording_id=recording_id,
            start_s=1.0,
            end_s=5.0,
            title="Opening",
            opus_key=clips.clip_key(recording_id, "x", "opus"),
            opus_size=1,
            mp3_key=clips.clip_key(recording_id, "x", "mp3"),
            mp3_size=1,
            created_by=author.id,
        )
        session.add(clip)
        session.commit()
        clip_id = clip.id

    deleting = sessions()
    delete_recording(deleting, store, recording_id=recording_id, reason="erasure", actor=author)
    outcome: dict[str, Any] = {}

    def editor() -> None:
        with sessions() as session:
            outcome["pid"] = session.execute(text("SELECT pg_backend_pid()")).scalar()
            try:
                clips.update_clip(session, actor=author, clip_id=clip_id, title="Written after the erasure")
                session.commit()
                outcome["result"] = "written"
            except NotFound:
                outcome["result"] = "refused"

    thread = threading.Thread(target=editor)
    thread.start()
    wait_until_blocked(engine, thread, outcome, what="the edit")
    deleting.commit()
    deleting.close()
    thread.join(timeout=20)

    assert outcome["result"] == "refused"
    with sessions() as session:
        kept = session.get_one(TrainingClip, clip_id)
        assert (kept.title, kept.removed_reason) == ("", "erasure")
