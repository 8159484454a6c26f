"""The transcription job: claim a call, transcribe it outside any transaction, store it; repeat.

The model loads once per jobs process, at start (`check_model`), so a missing or corrupt model is
reported then, not in the middle of a job. Each step commits on its own: the claim (so other
workers see the lease), each lease renewal, and the transcript together with the job's completion and
the handling of card data it reveals (PCI: the original replaced by a card-muted copy, whose predecessor's
versions are deleted after that commit).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import replace

from jobs.card_data import delete_replaced, secure_call
from jobs.leases import work_through
from recordings_service.audit import Actor
from recordings_service.calls.waveform import cached_peaks
from recordings_service.config import Settings
from recordings_service.errors import Unavailable
from recordings_service.logs import describe_exception
from recordings_service.models import Recording
from recordings_service.models.recording import RecordingStatus
from recordings_service.runtime import Runtime
from recordings_service.transcription.engines import Engine, default_batch_size, load_engine
from recordings_service.transcription.pipeline import RecordingAudio, UndecodableAudio, transcribe_audio
from recordings_service.transcription.queue import ClaimedJob, LeaseLost, claim_next, fail_job, finish_job, renew_lease

log = logging.getLogger("jobs.transcription")
TRANSCRIPTION_ACTOR = Actor(id=None, name="transcription", role="system")
# How long one run keeps claiming before it hands back to the scheduler (which fires again at once).
BUDGET_S = 300.0


@functools.cache
def engine_for(settings: Settings) -> Engine:
    if settings.transcribe_batch_size == 0:
        settings = replace(settings, transcribe_batch_size=default_batch_size(settings))
    return load_engine(settings)


def check_model(runtime: Runtime) -> None:
    """Load the configured model now; raises `ModelUnavailable` with what to fix."""
    engine_for(runtime.settings)


def transcribe_pending(runtime: Runtime, *, budget_s: float = BUDGET_S) -> None:
    """Transcribe queued calls one at a time until the queue is empty or the time budget is spent."""
    engine = engine_for(runtime.settings)
    work_through(
        runtime,
        claim=lambda session, owner: claim_next(session, owner=owner, lease_s=runtime.settings.transcribe_lease_s),
        work=lambda job: _run_one(runtime, engine, job),
        budget_s=budget_s,
        outcomes=("transcribed", "held_restricted", "retrying", "failed", "lease_lost"),
        log=log,
        summary="transcription run",
    )


def _run_one(runtime: Runtime, engine: Engine, job: ClaimedJob) -> str:
    started = time.monotonic()
    replaced: str | None = None
    try:
        with runtime.sessions() as session:
            audio = RecordingAudio.load(session, job.recording_id)
        draft = transcribe_audio(
            runtime.store,
            envelope=runtime.envelope,
            engine=engine,
            audio=audio,
            configured_language=runtime.settings.transcribe_language,
            on_progress=_lease_keeper(runtime, job),
        )
        with runtime.sessions() as session:
            pattern = runtime.settings.customer_number_rule
            if finish_job(session, job=job, draft=draft, customer_number_pattern=pattern) is None:
                # Restricted (Art. 18) while it was transcribed: the draft goes, the job waits for the lifting.
                session.commit()
                return "held_restricted"
            # Card data (PCI DSS 3.3.1) is flagged, and the original replaced, with the transcript or not at all.
            replaced = secure_call(session, runtime, recording_id=job.recording_id, actor=TRANSCRIPTION_ACTOR)
            session.commit()
    except LeaseLost:
        log.warning("lease lost; another worker has the job", extra={"job": job.job_id})
        return "lease_lost"
    except Exception as exc:
        # FFmpeg refused the original's data: every attempt would fail alike, so the job fails now, saying so.
        undecodable = isinstance(exc, UndecodableAudio)
        reason = f"{UndecodableAudio.code}: {exc}" if undecodable else describe_exception(exc)
        log.warning("transcription attempt failed", extra={"job": job.job_id, "attempt": job.attempt}, exc_info=True)
        with runtime.sessions() as session:
            try:
                state = fail_job(session, job=job, error=reason, final=undecodable, outage=isinstance(exc, Unavailable))
                session.commit()
            except LeaseLost:
                return "lease_lost"
        return "failed" if state == "failed" else "retrying"
    if replaced is not None:
        delete_replaced(runtime, key=replaced, recording_id=job.recording_id)
    _cache_peaks(runtime, recording_id=job.recording_id)
    log.info(
        "call transcribed",
        extra={
            "job": job.job_id,
            "recording": job.recording_id,
            "original_replaced": replaced is not None,
            "wall_s": round(time.monotonic() - started, 2),
        },
    )
    return "transcribed"


def _cache_peaks(runtime: Runtime, *, recording_id: str) -> None:
    """The waveform's peaks, now rather than on the call's first view (1.7 s at p95 under bench/load.py)."""
    try:
        with runtime.sessions() as session:
            recording = session.get(Recording, recording_id)
            if recording is not None and recording.status == RecordingStatus.TRANSCRIBED:
                cached_peaks(session, runtime.store, runtime.envelope, recording=recording)
                session.commit()
    except Exception:
        # The call is transcribed; its first view computes the peaks instead.
        log.warning("waveform peaks not cached", extra={"recording": recording_id}, exc_info=True)


def _lease_keeper(runtime: Runtime, job: ClaimedJob) -> Callable[[float], None]:
    """A progress callback that records progress and renews the lease, at most every third of a lease."""
    lease_s = runtime.settings.transcribe_lease_s
    last = time.monotonic()

    def on_progress(progress_s: float) -> None:
        nonlocal last
        if time.monotonic() - last < lease_s / 3:
            return
        with runtime.sessions() as session:
            renew_lease(session, job=job, lease_s=lease_s, progress_s=progress_s)
            session.commit()
        last = time.monotonic()

    return on_progress
