"""A worker finishing, or claiming, a call's transcription while the call is deleted: neither is aborted.
Found by review: deletion locks the call, then its transcript, then its job; the worker locked its job, then the
transcript, then the call, and PostgreSQL aborted one of them as a deadlock. The worker now locks the call first.
A claim (also one failing an abandoned job or setting aside a restricted call's) locked the job, then waited for the
call: it now locks both at once and passes over a job whose call a deletion holds.
PostgreSQL only: SQLite has one writer at a time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from recordings_service.db import utcnow
from recordings_service.models import Recording, Transcript, TranscriptionJob
from recordings_service.privacy.deletion import delete_recording
from recordings_service.runtime import SESSION_ENVELOPE
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from recordings_service.transcription.queue import MAX_ATTEMPTS, claim_next, enqueue_transcription, finish_job
from tests.factories.postgres_races import private_engine, wait_until_blocked, waits_for_a_lock
from tests.factories.recordings import MONO, TEST_ACTOR, make_recording
from tests.factories.transcription import spoken_draft

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
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


def transcribed_and_queued_again(session: Session, store: ObjectStore, envelope: Envelope) -> Recording:
    """A call with a transcript whose job is queued again: a finish or claim will write a transcript over it."""
    call = make_recording(session, store, envelope, audio=MONO, channels=1)
    enqueue_transcription(session, call)
    first = claim_next(session, owner="w", lease_s=600)
    assert first is not None
    finish_job(session, job=first, draft=spoken_draft("first", "take"))
    enqueue_transcription(session, call)
    return call


def test_a_deletion_and_a_finishing_worker_do_not_deadlock(
    engine: Engine, store: ObjectStore, envelope: Envelope
) -> None:
    sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False, info={SESSION_ENVELOPE: envelope})
    with sessions() as session:
        call = transcribed_and_queued_again(session, store, envelope)  # with a newer model, say
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


# How the job stands when the claim finds it: due, abandoned on its last attempt, or stalled on a restricted call.
JOB_STANDING: dict[str, dict[str, object]] = {
    "queued": {},
    "abandoned": {"state": "running", "attempts": MAX_ATTEMPTS},
    "restricted": {"state": "running", "attempts": 1},
}


@pytest.mark.parametrize("standing", list(JOB_STANDING))
def test_a_deletion_and_a_claiming_worker_do_not_deadlock(
    engine: Engine, store: ObjectStore, envelope: Envelope, standing: str
) -> None:
    sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False, info={SESSION_ENVELOPE: envelope})
    with sessions() as session:
        call = transcribed_and_queued_again(session, store, envelope)  # then as `standing` says
        if JOB_STANDING[standing]:
            expired = {"lease_owner": "gone", "lease_expires_at": utcnow() - timedelta(minutes=1)}
            job = update(TranscriptionJob).where(TranscriptionJob.recording_id == call.id)
            session.execute(job.values(**JOB_STANDING[standing], **expired))
        session.execute(update(Recording).where(Recording.id == call.id).values(restricted=standing == "restricted"))
        session.commit()

    # The deletion stops holding the call (as it does while it lists the store), waiting for the transcript.
    holding = sessions()
    holding.execute(select(Transcript.id).where(Transcript.recording_id == call.id).with_for_update()).one()
    deletion, deleted = _in_thread(
        sessions,
        lambda s: delete_recording(s, store, recording_id=call.id, reason="retention", actor=TEST_ACTOR),
    )
    wait_until_blocked(engine, deletion, deleted, what="the deletion")
    claims: list[object] = []
    worker, claimed = _in_thread(sessions, lambda s: claims.append(claim_next(s, owner="w2", lease_s=600)))
    _until_waiting_or_done(engine, worker, claimed)
    holding.rollback()
    holding.close()
    worker.join(timeout=20)
    deletion.join(timeout=20)

    assert "error" not in claimed and claims == [None]  # the job was passed over: its call is being deleted
    assert "error" not in deleted and deleted.get("done") is True
    with sessions() as session:
        assert session.scalar(select(Recording.status).where(Recording.id == call.id)) == "deleted"
        assert session.scalar(select(TranscriptionJob.id).where(TranscriptionJob.recording_id == call.id)) is None


def _until_waiting_or_done(engine: Engine, thread: threading.Thread, outcome: dict[str, Any]) -> None:
    """Until the thread's backend waits for a lock (as the old claim did, for the call) or the thread has ended."""
    deadline = time.monotonic() + 20
    while thread.is_alive() and not ("pid" in outcome and waits_for_a_lock(engine, outcome["pid"])):
        assert time.monotonic() < deadline, f"the claim neither ended nor waited: {outcome}"
        time.sleep(0.05)
