"""The call's status as supervisors see it while its transcription is retried, and for a call whose original went
missing from the store (reconcile's `missing_object`, which the queue must not overwrite); the reason a job failed
when its worker died on the last attempt."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.models import Recording
from recordings_service.runtime import Runtime
from recordings_service.transcription.queue import MAX_ATTEMPTS, claim_next, enqueue_transcription, fail_job
from tests.factories.recordings import MONO, make_recording
from tests.factories.transcription import leftovers_removed  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("leftovers_removed")


def _status(session: Session, recording: Recording) -> str:
    session.refresh(recording)
    return recording.status


def test_a_call_waiting_for_its_retry_is_not_shown_as_being_transcribed(session: Session, runtime: Runtime) -> None:
    recording = make_recording(session, runtime.store, runtime.envelope, audio=MONO, channels=1)
    enqueue_transcription(session, recording)
    claimed = claim_next(session, owner="w", lease_s=60)
    assert claimed is not None and _status(session, recording) == "transcribing"
    assert fail_job(session, job=claimed, error="decoder said no") == "queued"
    assert _status(session, recording) == "stored"


def test_a_call_whose_original_is_missing_keeps_saying_so_through_its_attempts(
    session: Session, runtime: Runtime
) -> None:
    recording = make_recording(session, runtime.store, runtime.envelope, audio=MONO, channels=1)
    enqueue_transcription(session, recording)
    recording.status = "missing_object"
    session.flush()
    now = utcnow()
    for _ in range(MAX_ATTEMPTS):
        claimed = claim_next(session, owner="w", lease_s=60, now=now)
        assert claimed is not None and _status(session, recording) == "missing_object"
        fail_job(session, job=claimed, error="NoSuchKey", retry_base_s=0.0)
        now += timedelta(seconds=1)
    assert _status(session, recording) == "missing_object"


def test_a_job_whose_last_worker_died_keeps_the_earlier_attempts_error(session: Session, runtime: Runtime) -> None:
    recording = make_recording(session, runtime.store, runtime.envelope, audio=MONO, channels=1)
    job = enqueue_transcription(session, recording)
    now = utcnow()
    first = claim_next(session, owner="w", lease_s=60, now=now)
    assert first is not None
    fail_job(session, job=first, error="decoder said no", retry_base_s=0.0)
    for _ in range(MAX_ATTEMPTS - 1):
        now += timedelta(seconds=2)
        assert claim_next(session, owner="dies", lease_s=1, now=now) is not None
    assert claim_next(session, owner="next", lease_s=1, now=now + timedelta(seconds=2)) is None
    session.refresh(job)
    assert job.state == "failed" and _status(session, recording) == "failed"
    assert job.last_error == (
        f"the worker stopped (crash or kill) during attempt {MAX_ATTEMPTS}; an earlier one failed: decoder said no"
    )
