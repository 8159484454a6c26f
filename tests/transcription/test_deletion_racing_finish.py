"""A worker finishing a call's transcription while the call is deleted: one waits for the other, neither is aborted.
Found by review: deletion locks the call, then its transcript, then its job; the worker locked its job, then the
transcript, then the call, and PostgreSQL aborted one of them as a deadlock. The worker now locks the call first.
PostgreSQL only: SQLite has one writer at a time."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from recordings_service.models import Recording, Transcript, TranscriptionJob
from recordings_service.privacy.deletion import delete_recording
from recordings_service.runtime import SESSION_ENVELOPE
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from recordings_service.transcription.queue import claim_next, enqueue_transcription, finish_job
from tests.factories.postgres_races import private_engine, wait_until_blocked
from tests.factories.recordings import MONO, TEST_ACTOR, make_recording
from tests.factories.transcription import spoken_draft

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine() -> Iterator[Engine]:
    with private_engine("t_finish_delete_race_") as engine:
        yield engine


def _in_thread(
    sessions: sessionmaker[Session], step: Callable[[Session], object]
) -> tuple[threading.Thread, dict[str, Any]]:
    outcome: dict[str, Any] = {}

    def run() -> None:
        with sessions() as session:
            outcome["pid"] = session.execute(text("SELECT pg_backend_pid()")).scalar()
            try:
                step(session)
                session.commit()
                outcome["done"] = True
            except Exception as exc:
                outcome["error"] = repr(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_a_deletion_and_a_finishing_worker_do_not_deadlock(
    engine: Engine, store: ObjectStore, envelope: Envelope
) -> None:
    sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False, info={SESSION_ENVELOPE: envelope})
    with sessions() as session:
        call = make_recording(session, store, envelope, audio=MONO, channels=1)
        enqueue_transcription(session, call)
        first = claim_next(session, owner="w", lease_s=600)
        assert first is not None
        finish_job(session, job=first, draft=spoken_draft("first", "take"))
        enqueue_transcription(session, call)  # transcribed again, with a newer model say
        claimed = claim_next(session, owner="w", lease_s=600)
        assert claimed is not None
        session.commit()

    # Another write (a redaction refresh, say) holds the transcript, so the worker stops where it is waiting for it.
    holding = sessions()
    holding.execute(select(Transcript.id).where(Transcript.recording_id == call.id).with_for_update()).one()
    worker, finished = _in_thread(sessions, lambda s: finish_job(s, job=claimed, draft=spoken_draft("second", "take")))
    wait_until_blocked(engine, worker, finished, what="the worker")
    deletion, deleted = _in_thread(
        sessions,
        lambda s: delete_recording(s, store, recording_id=call.id, reason="retention", actor=TEST_ACTOR),
    )
    wait_until_blocked(engine, deletion, deleted, what="the deletion")
    holding.rollback()
    holding.close()
    worker.join(timeout=20)
    deletion.join(timeout=20)

    assert "error" not in finished and finished.get("done") is True
    assert "error" not in deleted and deleted.get("done") is True
    with sessions() as session:
        assert session.scalar(select(Recording.status).where(Recording.id == call.id)) == "deleted"
        assert session.scalar(select(Transcript.id).where(Transcript.recording_id == call.id)) is None
        assert session.scalar(select(TranscriptionJob.id).where(TranscriptionJob.recording_id == call.id)) is None
