"""The transcription work queue: enqueue, and (later) claim with leases."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.models import Recording, TranscriptionJob
from recordings_service.models.transcription import JobState


def enqueue_transcription(session: Session, recording: Recording) -> TranscriptionJob:
    """Queue `recording` for transcription now; an existing job is reset to queued (a re-queue)."""
    job = session.scalar(select(TranscriptionJob).where(TranscriptionJob.recording_id == recording.id))
    if job is None:
        job = TranscriptionJob(recording_id=recording.id)
        session.add(job)
    else:
        job.state = JobState.QUEUED
        job.attempts = 0
        job.last_error = None
        job.lease_owner = None
        job.lease_expires_at = None
        job.progress_s = 0.0
    job.next_attempt_at = utcnow()
    session.flush()
    return job
