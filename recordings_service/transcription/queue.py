"""The transcription work queue: enqueue, claim with a lease, renew it, finish or retry with backoff.

Leases work as `leases.py` says: finishing is conditional on still holding the lease, so a worker that
lost its lease cannot store a second transcript.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import ColumnElement, and_, case, exists, literal, or_, select, update
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.db import utcnow
from recordings_service.errors import Conflict
from recordings_service.leases import Lease
from recordings_service.models import Recording, SegmentVerification, SubjectCorrection, Transcript, TranscriptionJob
from recordings_service.models.recording import RecordingStatus
from recordings_service.models.transcription import JobState
from recordings_service.recordings import UNPLAYABLE, IsoDatetime, get_playable_recording
from recordings_service.transcription.pipeline import TranscriptDraft, save_transcript

MAX_ATTEMPTS = 5
RETRY_BASE_S = 30.0
MAX_ERROR_CHARS = 2000
# What a queued job of a restricted call is shown as: it waits for the restriction to be lifted, not for a worker.
HELD_RESTRICTED = "held_restricted"
LEASE = Lease(
    TranscriptionJob.id,
    TranscriptionJob.state,
    TranscriptionJob.lease_owner,
    TranscriptionJob.lease_expires_at,
    TranscriptionJob.attempts,
    running=JobState.RUNNING,
)


# The claims lock the call's row with the job's, as they write both: a deletion locks the call, then the job.
CALL_OF_JOB = Recording.id == TranscriptionJob.recording_id


class LeaseLost(Conflict):
    """Another worker holds the job now (this one's lease expired); its work must be dropped."""

    code = "lease_lost"


@dataclass(frozen=True)
class ClaimedJob:
    job_id: str
    recording_id: str
    attempt: int
    owner: str


def enqueue_transcription(session: Session, recording: Recording, *, new: bool = False) -> TranscriptionJob:
    """Queue `recording` for transcription now; an existing job is reset to queued (a re-queue). A `new` recording,
    inserted in this transaction, has no job to look for."""
    job = None if new else _current_job(session, recording.id)
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


def requeue_transcription(session: Session, *, actor: Actor, recording_id: str) -> TranscriptionJob:
    """Queue a recording again (after a failure, or for a better model); refused while it is being worked, and for a
    transcript corrected on a data subject's request or verified against the audio, which a new one would replace."""
    recording = get_playable_recording(session, actor=actor, recording_id=recording_id)
    job = _current_job(session, recording_id)
    if job is not None and job.state == JobState.RUNNING and _lease_live(job, utcnow()):
        raise Conflict("the recording is being transcribed now", why="transcription_running")
    if _rectified(session, recording.id):
        raise Conflict(
            "the transcript has segments corrected on a data subject's request; transcribing the call again would"
            " undo the corrections",
            why="transcript_rectified",
        )
    if _verified(session, recording.id):
        raise Conflict(
            "the transcript was verified against the audio by a person; transcribing the call again would replace"
            " the verified text",
            why="transcript_verified",
        )
    job = enqueue_transcription(session, recording)
    recording.status = RecordingStatus.STORED
    record_event(session, actor=actor, action="transcription.requeued", object_type="recording", object_id=recording.id)
    return job


def _current_job(session: Session, recording_id: str) -> TranscriptionJob | None:
    """The call's job as the database has it. One the session holds may be stale (the queue's updates bypass the
    session): it could show a running job queued, and setting the values it shows would write nothing, leaving
    a done or failed job so."""
    job = select(TranscriptionJob).where(TranscriptionJob.recording_id == recording_id)
    return session.scalar(job.execution_options(populate_existing=True))


def claim_next(session: Session, *, owner: str, lease_s: float, now: datetime | None = None) -> ClaimedJob | None:
    """Take the next due job (queued, or running under an expired lease) and lease it to `owner`.

    A restricted call's job (GDPR Art. 18: storage only) is held, not claimed, until the restriction is lifted;
    its transcript, if one was made before, is kept."""
    now = now or utcnow()
    _fail_abandoned(session, now=now)
    _hold_abandoned_restricted(session, now=now)
    row = LEASE.claim(
        session,
        due=and_(
            or_(
                and_(TranscriptionJob.state == JobState.QUEUED, TranscriptionJob.next_attempt_at <= now),
                LEASE.expired(now),
            ),
            ~_restricted_call(),
        ),
        order_by=[TranscriptionJob.next_attempt_at],
        owner=owner,
        lease_s=lease_s,
        now=now,
        values={"progress_s": 0.0, "updated_at": now},
        returning=[TranscriptionJob.id, TranscriptionJob.recording_id, TranscriptionJob.attempts],
        parent=(Recording, CALL_OF_JOB),
    )
    if row is None:
        return None
    _set_status(session, [row.recording_id], RecordingStatus.TRANSCRIBING)
    session.flush()
    return ClaimedJob(job_id=row.id, recording_id=row.recording_id, attempt=row.attempts, owner=owner)


def renew_lease(session: Session, *, job: ClaimedJob, lease_s: float, progress_s: float) -> None:
    """Extend the lease and record progress; `LeaseLost` when another worker has taken the job."""
    now = utcnow()
    values = {"lease_expires_at": now + timedelta(seconds=lease_s), "progress_s": progress_s, "updated_at": now}
    if not _update_held(session, job, values):
        raise LeaseLost(f"transcription job {job.job_id} is no longer leased to this worker")


def finish_job(
    session: Session, *, job: ClaimedJob, draft: TranscriptDraft, customer_number_pattern: str | None = None
) -> Transcript | None:
    """Store the transcript and mark the job done, only if this worker still holds the lease.

    None when the call was restricted (Art. 18) while it was transcribed: the draft goes, and the job is held
    queued, from its first attempt, until the restriction is lifted."""
    now = utcnow()
    if _lock_call(session, job.recording_id):
        _hold(session, job, now=now)
        return None
    values = {"state": JobState.DONE, "lease_owner": None, "lease_expires_at": None, "last_error": None}
    if not _update_held(session, job, {**values, "updated_at": now}):
        raise LeaseLost(f"transcription job {job.job_id} is no longer leased to this worker")
    # Locked first, so a rectification committing meanwhile is waited for and then seen (PostgreSQL).
    kept = session.scalar(
        select(Transcript)
        .where(Transcript.recording_id == job.recording_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if kept is not None and (_rectified(session, job.recording_id) or _verified(session, job.recording_id)):
        # Corrected on a data subject's request, or verified against the audio by a person, while this attempt was
        # queued or ran: the corrected or verified text stands, the draft goes.
        transcript = kept
    else:
        transcript = save_transcript(
            session, recording_id=job.recording_id, draft=draft, customer_number_pattern=customer_number_pattern
        )
    _set_status(session, [job.recording_id], RecordingStatus.TRANSCRIBED)
    session.flush()
    return transcript


def fail_job(
    session: Session,
    *,
    job: ClaimedJob,
    error: str,
    retry_base_s: float = RETRY_BASE_S,
    final: bool = False,
    outage: bool = False,
) -> JobState:
    """Record a failed attempt: retry later with exponential backoff, or give up after MAX_ATTEMPTS (at once when
    `final`: a failure that another attempt would repeat). An `outage` (the store unreachable) is no attempt of the
    call's: it is tried again after `retry_base_s`, for as long as the outage lasts. Counted, an outage of seven and
    a half minutes failed every queued call for good, and each had to be queued again by hand."""
    now = utcnow()
    final = not outage and (final or job.attempt >= MAX_ATTEMPTS)
    state = JobState.FAILED if final else JobState.QUEUED
    retry = {
        "state": state,
        "lease_owner": None,
        "lease_expires_at": None,
        "last_error": error[:MAX_ERROR_CHARS],
        "next_attempt_at": now + timedelta(seconds=retry_base_s * (1 if outage else 2 ** (job.attempt - 1))),
        "updated_at": now,
        **({"attempts": job.attempt - 1} if outage else {}),
    }
    _lock_call(session, job.recording_id)
    if not _update_held(session, job, retry):
        raise LeaseLost(f"transcription job {job.job_id} is no longer leased to this worker")
    # Waiting for its retry, the call is queued again, not being transcribed.
    _set_status(session, [job.recording_id], RecordingStatus.FAILED if final else RecordingStatus.STORED)
    session.flush()
    return state


def _held(now: datetime) -> dict[str, object]:
    """A job set aside for its restricted call: queued from its first attempt, taken once the restriction is lifted."""
    return {
        "state": JobState.QUEUED,
        "lease_owner": None,
        "lease_expires_at": None,
        "attempts": 0,
        "progress_s": 0.0,
        "next_attempt_at": now,
        "updated_at": now,
    }


def _hold(session: Session, job: ClaimedJob, *, now: datetime) -> None:
    """Set aside the job of a call restricted while it was transcribed."""
    if not _update_held(session, job, _held(now)):
        raise LeaseLost(f"transcription job {job.job_id} is no longer leased to this worker")
    _set_status(session, [job.recording_id], RecordingStatus.STORED)
    session.flush()


def _hold_abandoned_restricted(session: Session, *, now: datetime) -> None:
    """A restricted call's job whose worker died is not taken over, so it would show as stalled: set it aside."""
    stalled = and_(LEASE.expired(now), _restricted_call())
    if not (job_ids := _locked_with_calls(session, stalled)):
        return
    recording_ids = session.scalars(
        update(TranscriptionJob)
        .where(TranscriptionJob.id.in_(job_ids), stalled)
        .values(_held(now))
        .returning(TranscriptionJob.recording_id)
        .execution_options(synchronize_session=False)
    ).all()
    if recording_ids:
        _set_status(session, list(recording_ids), RecordingStatus.STORED)


def _fail_abandoned(session: Session, *, now: datetime) -> None:
    """Jobs whose workers died on every attempt (a file that kills the process) fail instead of looping."""
    abandoned = LEASE.abandoned(now, max_attempts=MAX_ATTEMPTS)
    if not (job_ids := _locked_with_calls(session, abandoned)):
        return
    recording_ids = session.scalars(
        update(TranscriptionJob)
        .where(TranscriptionJob.id.in_(job_ids), abandoned)
        .values(
            state=JobState.FAILED,
            lease_owner=None,
            lease_expires_at=None,
            # A worker that dies writes no error: one kept is an earlier attempt's, which the operator needs to see.
            last_error=case(
                (
                    TranscriptionJob.last_error.is_(None),
                    f"the worker stopped (crash or kill) during each of {MAX_ATTEMPTS} attempts",
                ),
                else_=literal(
                    f"the worker stopped (crash or kill) during attempt {MAX_ATTEMPTS}; an earlier one failed: "
                )
                + TranscriptionJob.last_error,
            ),
            updated_at=now,
        )
        .returning(TranscriptionJob.recording_id)
        .execution_options(synchronize_session=False)
    ).all()
    if recording_ids:
        _set_status(session, list(recording_ids), RecordingStatus.FAILED)


def _locked_with_calls(session: Session, where: ColumnElement[bool]) -> list[str]:
    """The jobs `where` says, each locked with its call's row (PostgreSQL), passing over any whose job or call another
    transaction holds: locking the job, then waiting for its call, deadlocked with a deletion of the call, which
    locks the call, then the job. One passed over is taken up by a later claim. The update re-checks `where`:
    SQLite locks nothing here."""
    locked = select(TranscriptionJob.id).join(Recording, CALL_OF_JOB).where(where)
    of = [TranscriptionJob, Recording]
    return list(session.scalars(locked.with_for_update(skip_locked=True, key_share=True, of=of)))


def _lock_call(session: Session, recording_id: str) -> bool:
    """Lock the call's row before its job's and transcript's, the order deletion takes them in (PostgreSQL): a worker
    that locked its job first, then the transcript and the call, deadlocked with a deletion of the same call.
    Now one waits for the other; a worker that waited for a deletion finds its job gone (`LeaseLost`).
    Whether the call is restricted, as it is once any restriction committing meanwhile has been waited for."""
    locked = select(Recording.restricted).where(Recording.id == recording_id).with_for_update(key_share=True)
    return bool(session.scalar(locked))


def _restricted_call() -> ColumnElement[bool]:
    """The job's call is restricted (GDPR Art. 18); the job's only, also where the calls are joined to lock them."""
    restricted = exists().where(Recording.id == TranscriptionJob.recording_id, Recording.restricted.is_(True))
    return restricted.correlate(TranscriptionJob)


def _set_status(session: Session, recording_ids: list[str], status: RecordingStatus) -> None:
    """The calls' status as their transcription moves on; one whose original went missing (or that was deleted)
    keeps saying so."""
    session.execute(
        update(Recording)
        .where(Recording.id.in_(recording_ids), Recording.status.not_in(UNPLAYABLE))
        .values(status=status)
    )


def _verified(session: Session, recording_id: str) -> bool:
    """Whether a person checked the recording's transcript, or a segment of it, against the audio: a new transcript
    would replace the checked text and drop the check (the evidence on a disputed call)."""
    whole = select(Transcript.id).where(Transcript.recording_id == recording_id, Transcript.verified_at.is_not(None))
    segment = (
        select(SegmentVerification.id)
        .join(Transcript, Transcript.id == SegmentVerification.transcript_id)
        .where(Transcript.recording_id == recording_id)
    )
    return bool(session.scalar(select(or_(whole.exists(), segment.exists()))))


def _rectified(session: Session, recording_id: str) -> bool:
    """Whether the recording's transcript holds text corrected under GDPR Art. 16, which a new transcript would lose."""
    corrected = select(SubjectCorrection.id).where(
        SubjectCorrection.recording_id == recording_id,
        SubjectCorrection.transcript_id.is_not(None),
        SubjectCorrection.field == "segment",
    )
    return bool(session.scalar(select(corrected.exists())))


def _update_held(session: Session, job: ClaimedJob, values: Mapping[str, object]) -> bool:
    return LEASE.update_held(session, item_id=job.job_id, owner=job.owner, attempt=job.attempt, values=values)


def _lease_live(job: TranscriptionJob, now: datetime) -> bool:
    return job.lease_expires_at is not None and job.lease_expires_at >= now


class TranscriptionStatus(BaseModel):
    """Where a recording's transcription stands, as the recording API shows it."""

    state: str
    attempts: int
    progress_s: float
    progress: float | None
    next_attempt_at: IsoDatetime | None
    last_error: str | None


def transcription_status(session: Session, recording: Recording) -> TranscriptionStatus | None:
    """Where the recording's transcription stands: state, attempts, progress (seconds and fraction), last error.

    The job and what it reads of the recording come from one query: the `recording` the caller holds may be as
    stale as a held job (restricted by another session meanwhile, its job then held, not queued)."""
    found = session.execute(
        select(TranscriptionJob, Recording.restricted, Recording.duration_s)
        .join(Recording, Recording.id == TranscriptionJob.recording_id)
        .where(TranscriptionJob.recording_id == recording.id)
        .execution_options(populate_existing=True)
    ).first()
    if found is None:
        return None
    job, restricted, duration_s = found
    done_s = duration_s if job.state == JobState.DONE else min(job.progress_s, duration_s)
    held = job.state == JobState.QUEUED and restricted
    return TranscriptionStatus(
        state=HELD_RESTRICTED if held else job.state,
        attempts=job.attempts,
        progress_s=round(done_s, 2),
        progress=round(done_s / duration_s, 3) if duration_s else None,
        next_attempt_at=job.next_attempt_at if job.state == JobState.QUEUED and not held else None,
        last_error=job.last_error,
    )
