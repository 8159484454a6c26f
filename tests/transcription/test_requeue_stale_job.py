"""Queueing a call again while the session still holds its job as it was first read.
Found by review: the queue's own updates bypass the session, so the job it held still showed queued, attempts 0;
setting those values again wrote nothing, and the job stayed done (or failed): the call was never transcribed again.
Re-queueing by hand also read the held job, which showed a running one queued, and queued it under its worker."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.errors import Conflict
from recordings_service.models import TranscriptionJob
from recordings_service.models.transcription import JobState
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from recordings_service.transcription.queue import (
    claim_next,
    enqueue_transcription,
    finish_job,
    requeue_transcription,
)
from tests.factories.recordings import MONO, TEST_ACTOR, make_recording
from tests.factories.transcription import spoken_draft


def test_a_done_job_the_session_holds_is_queued_again(session: Session, store: ObjectStore, envelope: Envelope) -> None:
    call = make_recording(session, store, envelope, audio=MONO, channels=1)
    held = enqueue_transcription(session, call)  # kept: the session's identity map holds it as it was then
    claimed = claim_next(session, owner="w", lease_s=600)
    assert claimed is not None
    finish_job(session, job=claimed, draft=spoken_draft("first", "take"))

    assert enqueue_transcription(session, call) is held
    stored = session.execute(
        select(TranscriptionJob.state, TranscriptionJob.attempts).where(TranscriptionJob.recording_id == call.id)
    ).one()
    assert tuple(stored) == (JobState.QUEUED, 0)
    again = claim_next(session, owner="w", lease_s=600)
    assert again is not None and again.recording_id == call.id and again.attempt == 1


def test_a_running_job_the_session_holds_as_queued_is_not_queued_again(
    session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    call = make_recording(session, store, envelope, audio=MONO, channels=1)
    held = enqueue_transcription(session, call)
    assert claim_next(session, owner="w", lease_s=600) is not None
    assert held.state == JobState.QUEUED  # as the session still shows it

    with pytest.raises(Conflict) as refused:
        requeue_transcription(session, actor=TEST_ACTOR, recording_id=call.id)
    assert refused.value.why == "transcription_running"
