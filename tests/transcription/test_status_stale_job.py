"""The transcription status of a call whose job this session already holds, after another session moved it on.
Found by review: the status read the job through the session's identity map, so a web request that had loaded
the job (queueing it, say) showed it queued, attempt 0, while a worker had it running with progress."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from recordings_service.models.transcription import JobState
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from recordings_service.transcription.queue import (
    claim_next,
    enqueue_transcription,
    renew_lease,
    transcription_status,
)
from tests.factories.recordings import MONO, make_recording


def test_the_status_shows_what_another_session_made_of_the_job(
    session: Session, sessions: sessionmaker[Session], store: ObjectStore, envelope: Envelope
) -> None:
    call = make_recording(session, store, envelope, audio=MONO, channels=1)
    held = enqueue_transcription(session, call)  # the session's identity map keeps the job as it was then
    session.commit()

    with sessions() as worker:
        claimed = claim_next(worker, owner="w", lease_s=600)
        assert claimed is not None
        renew_lease(worker, job=claimed, lease_s=600, progress_s=12.5)
        worker.commit()
    assert held.state == JobState.QUEUED  # as this session still holds it

    status = transcription_status(session, call)

    assert status is not None
    assert (status.state, status.attempts, status.progress_s) == (JobState.RUNNING, 1, 12.5)
    assert status.next_attempt_at is None
