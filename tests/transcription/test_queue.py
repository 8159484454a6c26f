"""The leased work queue: claims, renewals, retries with backoff, failure, and many workers on PostgreSQL.

These tests use a fake engine (tests.factories.transcription.FakeEngine, chosen through
CALLVAULT_TRANSCRIBE_ENGINE) because they test the queue, not recognition; the real model is tested
in test_transcription_pipeline.py.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from jobs import transcription as transcription_job
from recordings_service.config import Settings
from recordings_service.db import make_engine, make_sessionmaker, utcnow
from recordings_service.models import Recording, Transcript, TranscriptionJob
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from recordings_service.transcription.queue import (
    MAX_ATTEMPTS,
    RETRY_BASE_S,
    LeaseLost,
    claim_next,
    enqueue_transcription,
    fail_job,
    renew_lease,
)
from tests.conftest import private_postgres_schema
from tests.factories.recordings import MONO, make_recording
from tests.factories.transcription import (
    FAKE_DELAY_ENV,
    FAKE_ENGINE,
    FakeEngine,
    leftovers_removed,  # noqa: F401  (a fixture)
)
from tests.live_server import free_port, settings_env

pytestmark = pytest.mark.usefixtures("leftovers_removed")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake_runtime(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    monkeypatch.setattr(transcription_job, "engine_for", lambda _settings: FakeEngine(0.0))
    return runtime


def _queued(session: Session, runtime: Runtime, audio: Path | bytes = MONO) -> TranscriptionJob:
    recording = make_recording(session, runtime.store, runtime.envelope, audio=audio, channels=1)
    return enqueue_transcription(session, recording)


def test_a_claim_leases_one_job_to_one_worker(session: Session, fake_runtime: Runtime) -> None:
    job = _queued(session, fake_runtime)
    first = claim_next(session, owner="a", lease_s=60)
    assert first is not None and first.job_id == job.id and first.attempt == 1
    assert claim_next(session, owner="b", lease_s=60) is None
    session.refresh(job)
    assert (job.state, job.lease_owner, job.recording_id) == ("running", "a", first.recording_id)


def test_an_expired_lease_is_reclaimed_and_the_old_worker_cannot_finish(
    session: Session, fake_runtime: Runtime
) -> None:
    _queued(session, fake_runtime)
    lost = claim_next(session, owner="a", lease_s=60)
    assert lost is not None
    later = utcnow() + timedelta(seconds=61)
    taken = claim_next(session, owner="b", lease_s=60, now=later)
    assert taken is not None and taken.job_id == lost.job_id and taken.attempt == 2
    with pytest.raises(LeaseLost):
        renew_lease(session, job=lost, lease_s=60, progress_s=1.0)
    renew_lease(session, job=taken, lease_s=60, progress_s=2.5)
    assert session.get(TranscriptionJob, taken.job_id).progress_s == 2.5  # type: ignore[union-attr]


def test_failures_back_off_exponentially_then_fail_with_the_reason(session: Session, fake_runtime: Runtime) -> None:
    job = _queued(session, fake_runtime)
    now = utcnow()
    delays = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        claimed = claim_next(session, owner="w", lease_s=60, now=now)
        assert claimed is not None and claimed.attempt == attempt
        state = fail_job(session, job=claimed, error="decoder said no")
        session.refresh(job)
        if state == "queued":
            delays.append((job.next_attempt_at - utcnow()).total_seconds())
            now = job.next_attempt_at + timedelta(seconds=1)
    assert [round(d / 30) for d in delays] == [1, 2, 4, 8]
    assert (job.state, job.last_error, job.attempts) == ("failed", "decoder said no", MAX_ATTEMPTS)
    assert claim_next(session, owner="w", lease_s=60, now=now + timedelta(days=1)) is None


def test_a_store_outage_is_no_attempt_and_the_call_is_transcribed_once_the_store_is_back(
    session: Session, fake_runtime: Runtime
) -> None:
    """Found by a deployment pass: with the store down for seven and a half minutes every queued call used its five
    attempts on the outage and failed for good, and nothing queued it again once the store was back."""
    job = _queued(session, fake_runtime)
    session.commit()
    gone = S3ObjectStore.from_settings(replace(fake_runtime.settings, s3_endpoint=f"http://127.0.0.1:{free_port()}"))
    down = replace(fake_runtime, store=gone)
    for _ in range(MAX_ATTEMPTS + 2):
        transcription_job.transcribe_pending(down, budget_s=30)
        session.expire_all()
        assert (job.state, job.attempts) == ("queued", 0)
        assert "unreachable" in (job.last_error or "")
        assert (job.next_attempt_at - utcnow()).total_seconds() <= RETRY_BASE_S  # no growing backoff
        session.execute(update(TranscriptionJob).where(TranscriptionJob.id == job.id).values(next_attempt_at=utcnow()))
        session.commit()
    transcription_job.transcribe_pending(fake_runtime, budget_s=30)
    session.expire_all()
    assert (job.state, job.attempts) == ("done", 1)


def test_a_file_the_decoder_refuses_fails_at_once_and_the_queue_moves_on(
    session: Session, fake_runtime: Runtime
) -> None:
    garbage = b"RIFF" + secrets.token_bytes(4000)
    bad = _queued(session, fake_runtime, audio=garbage)
    good = _queued(session, fake_runtime)
    session.commit()
    transcription_job.transcribe_pending(fake_runtime, budget_s=30)
    session.expire_all()
    # Every attempt would fail alike (tests/transcription/test_undecodable.py), so there is no retry.
    assert (bad.state, bad.attempts) == ("failed", 1)
    assert bad.last_error == "undecodable_audio: the file cannot be opened as accepted audio"
    assert session.get(Recording, bad.recording_id).status == "failed"  # type: ignore[union-attr]
    assert good.state == "done"
    assert session.scalar(select(Transcript.engine).where(Transcript.recording_id == good.recording_id)) == "fake"


def test_a_worker_lost_on_every_attempt_fails_the_job(session: Session, fake_runtime: Runtime) -> None:
    job = _queued(session, fake_runtime)
    now = utcnow()
    for _ in range(MAX_ATTEMPTS):
        assert claim_next(session, owner="doomed", lease_s=1, now=now) is not None
        now += timedelta(seconds=2)
    assert claim_next(session, owner="next", lease_s=1, now=now) is None
    session.refresh(job)
    assert job.state == "failed" and "stopped" in (job.last_error or "")


# ---------------------------------------------------------------- many workers on PostgreSQL

WORKERS = 3
CALLS = 30
WORKER_SCRIPT = """
import sys, time
from sqlalchemy import func, select, update
from jobs.transcription import transcribe_pending
from recordings_service.config import Settings
from recordings_service.models import TranscriptionJob
from recordings_service.runtime import Runtime

runtime = Runtime.from_settings(Settings.from_env())
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    transcribe_pending(runtime, budget_s=30)
    with runtime.sessions() as session:
        open_jobs = session.scalar(
            select(func.count()).select_from(TranscriptionJob).where(TranscriptionJob.state.in_(["queued", "running"]))
        )
    if not open_jobs:
        break
    time.sleep(0.2)
"""


@pytest.fixture
def private_postgres() -> Iterator[str]:
    """A migrated PostgreSQL schema of this test's own: its rows are committed for real, by other processes."""
    with private_postgres_schema("t_queue_") as url:
        yield url


@pytest.mark.postgres
def test_three_workers_transcribe_thirty_calls_exactly_once_and_survive_a_kill(
    private_postgres: str, base_settings: Settings, store: S3ObjectStore, envelope: Envelope, tmp_path: Path
) -> None:
    engine = make_engine(private_postgres)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        for _ in range(CALLS):
            recording = make_recording(session, store, envelope, audio=MONO, channels=1)
            enqueue_transcription(session, recording)
        session.commit()
    lease_s = 2.0
    settings = replace(
        base_settings,
        database_url=private_postgres,
        data_dir=tmp_path,
        transcribe_engine=FAKE_ENGINE,
        transcribe_lease_s=lease_s,
    )
    env = {**settings_env(settings), FAKE_DELAY_ENV: "1.0"}
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER_SCRIPT], cwd=REPO, env=env, stderr=subprocess.DEVNULL)
        for _ in range(WORKERS)
    ]
    try:
        victim = workers[0]
        owner_suffix = f":{victim.pid}"
        killed_job = None
        deadline = time.monotonic() + 60
        while killed_job is None and time.monotonic() < deadline:
            with sessions() as session:
                killed_job = session.scalar(
                    select(TranscriptionJob.id).where(
                        TranscriptionJob.state == "running", TranscriptionJob.lease_owner.endswith(owner_suffix)
                    )
                )
            time.sleep(0.05)
        assert killed_job is not None, "the victim never claimed a job"
        os.kill(victim.pid, signal.SIGKILL)
        for worker in workers[1:]:
            assert worker.wait(timeout=120) == 0
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    with sessions() as session:
        jobs = session.scalars(select(TranscriptionJob)).all()
        assert {job.state for job in jobs} == {"done"}
        assert session.scalar(select(func.count()).select_from(Transcript)) == CALLS
        attempts = {job.id: job.attempts for job in jobs}
        # Exactly once: every call claimed once, except the killed worker's, finished after its lease expired.
        assert attempts.pop(killed_job) == 2
        assert set(attempts.values()) == {1}
    engine.dispose()
