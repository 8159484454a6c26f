"""The transcription backlog as supervisors see it: how much waits, how much runs, what failed and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.config import Settings
from recordings_service.db import utcnow
from recordings_service.models import Recording, Transcript, TranscriptionJob
from recordings_service.models.transcription import JobState
from recordings_service.recordings import visible_to
from recordings_service.transcription.model_files import DEFAULT_MODEL_NAME


@dataclass(frozen=True)
class FailedJob:
    recording_id: str
    queue: str
    started_at: datetime
    attempts: int
    last_error: str
    failed_at: datetime


@dataclass(frozen=True)
class ModelInUse:
    """The configured engine and model, and the ones that wrote the latest transcript (they differ
    until the jobs processes restart after a change)."""

    configured_engine: str
    configured_model: str
    last_engine: str | None
    last_model: str | None
    last_at: datetime | None


@dataclass(frozen=True)
class Backlog:
    queued: int
    held_restricted: int  # queued for a restricted call (GDPR Art. 18): taken once the restriction is lifted
    running: int  # leased to a worker that is renewing its lease
    stalled: int  # leased to a worker that stopped renewing (killed, or the jobs process is down)
    failed_total: int
    failed: list[FailedJob]  # the most recent failures, at most `limit`


def transcription_backlog(session: Session, *, actor: Actor, limit: int = 50, now: datetime | None = None) -> Backlog:
    """Counts by state and the latest failures of the calls `actor` may see.

    A job whose worker died stays `running` until another worker takes it over once its lease has expired; with
    every jobs process down nobody does, so those jobs are counted apart as stalled, not as work in progress. A queued
    job of a restricted call waits for the restriction to be lifted, not for a worker: counted apart as held."""
    by_state = select(TranscriptionJob.state, func.count()).group_by(TranscriptionJob.state)
    counts: dict[str, int] = {state: count for state, count in session.execute(by_state)}
    held = session.scalar(
        select(func.count())
        .select_from(TranscriptionJob)
        .join(Recording, Recording.id == TranscriptionJob.recording_id)
        .where(TranscriptionJob.state == JobState.QUEUED, Recording.restricted.is_(True))
    )
    stalled = session.scalar(
        select(func.count()).where(
            TranscriptionJob.state == JobState.RUNNING, TranscriptionJob.lease_expires_at < (now or utcnow())
        )
    )
    query = (
        select(TranscriptionJob, Recording)
        .join(Recording, Recording.id == TranscriptionJob.recording_id)
        .where(TranscriptionJob.state == JobState.FAILED, visible_to(actor))
    )
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
        queued=counts.get(JobState.QUEUED, 0) - (held or 0),
        held_restricted=held or 0,
        running=counts.get(JobState.RUNNING, 0) - (stalled or 0),
        stalled=stalled or 0,
        failed_total=counts.get(JobState.FAILED, 0),
        failed=failed,
    )


def model_in_use(session: Session, settings: Settings) -> ModelInUse:
    latest = session.execute(
        select(Transcript.engine, Transcript.model, Transcript.created_at)
        .order_by(Transcript.created_at.desc())
        .limit(1)
    ).first()
    configured = settings.transcribe_model or f"{DEFAULT_MODEL_NAME} (bundled, multilingual)"
    return ModelInUse(
        configured_engine=settings.transcribe_engine,
        configured_model=configured,
        last_engine=latest.engine if latest else None,
        last_model=latest.model if latest else None,
        last_at=latest.created_at if latest else None,
    )
