"""The transcription backlog as supervisors see it: how much waits, how much runs, what failed and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.models import Recording, TranscriptionJob
from recordings_service.models.transcription import JobState
from recordings_service.recordings import sees_restricted


@dataclass(frozen=True)
class FailedJob:
    recording_id: str
    queue: str
    started_at: datetime
    attempts: int
    last_error: str
    failed_at: datetime


@dataclass(frozen=True)
class Backlog:
    queued: int
    running: int
    failed_total: int
    failed: list[FailedJob]  # the most recent failures, at most `limit`


def transcription_backlog(session: Session, *, actor: Actor, limit: int = 50) -> Backlog:
    """Counts by state and the latest failures; restricted calls' failures are listed for compliance only."""
    by_state = select(TranscriptionJob.state, func.count()).group_by(TranscriptionJob.state)
    counts: dict[str, int] = {state: count for state, count in session.execute(by_state)}
    query = (
        select(TranscriptionJob, Recording)
        .join(Recording, Recording.id == TranscriptionJob.recording_id)
        .where(TranscriptionJob.state == JobState.FAILED)
    )
    if not sees_restricted(actor):
        query = query.where(Recording.restricted.is_(False))
    rows = session.execute(query.order_by(TranscriptionJob.updated_at.desc()).limit(limit))
    failed = [
        FailedJob(
            recording_id=recording.id,
            queue=recording.queue,
            started_at=recording.started_at,
            attempts=job.attempts,
            last_error=job.last_error or "",
            failed_at=job.updated_at,
        )
        for job, recording in rows
    ]
    return Backlog(
        queued=counts.get(JobState.QUEUED, 0),
        running=counts.get(JobState.RUNNING, 0),
        failed_total=counts.get(JobState.FAILED, 0),
        failed=failed,
    )
