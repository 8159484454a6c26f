"""PostgreSQL connections killed (`pg_terminate_backend`, as a failover or an admin would) mid-ingest and
mid-transcription: no partial rows, the pool recovers by itself, the work resumes.

Only this test's own connections are killed: its processes connect with an `application_name` of their own.
The moment is chosen with the test-only pause points (pause_points.py): the web worker and the jobs process
stop after their work is flushed and before it is committed; the test kills every connection of theirs, then
lets them go on to a commit on a dead connection. Runs on PostgreSQL only (skipped without it, required in CI).
"""

from __future__ import annotations

import secrets
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from recordings_service.config import Settings
from recordings_service.db import make_engine, utcnow
from recordings_service.models import Recording, Transcript, TranscriptionJob
from tests.conftest import postgres_url_or_skip
from tests.factories.recordings import MONO
from tests.factories.transcription import FAKE_DELAY_ENV, FAKE_ENGINE
from tests.faults.gunicorn_pause import CONTROL_ENV
from tests.faults.pause_points import release
from tests.faults.support import REPO, fault_world, new_call, reconcile_to_clean, send, wait_for
from tests.live_server import live_server, settings_env

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
HOOK = Path(__file__).with_name("gunicorn_pause.py")


def terminate(application_name: str) -> int:
    """Kill every backend of this test's processes; how many were killed."""
    admin = make_engine(postgres_url_or_skip(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            return len(
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND pid <> pg_backend_pid() AND application_name = :name"
                    ),
                    {"name": application_name},
                ).all()
            )
    finally:
        admin.dispose()


def test_killed_database_connections_leave_no_partial_rows_and_the_work_resumes(
    base_settings: Settings, tmp_path: Path
) -> None:
    name = "cvfault_" + secrets.token_hex(4)
    control = tmp_path / "control"
    control.mkdir()
    with fault_world(
        base_settings,
        tmp_path,
        database="postgresql",
        application_name=name,
        overrides={"transcribe_engine": FAKE_ENGINE, "transcribe_lease_s": 3.0},
    ) as world:
        # ---- mid-ingest: the web worker's transaction dies between the insert and the commit
        with live_server(world.settings, options=["-c", str(HOOK)], env={CONTROL_ENV: str(control)}) as server:
            assert send(server, world.token, new_call(MONO))[0] == 201  # the pool holds live connections
            victim = new_call(MONO)
            (control / "armed").write_text("before_commit")
            answer: list[tuple[int, dict[str, str]]] = []
            client = threading.Thread(target=lambda: answer.append(send(server, world.token, victim)))
            client.start()
            wait_for(control / "reached").unlink()
            killed_web = terminate(name)
            release(control)
            client.join(timeout=60)
            status, headers = answer[0]
            assert status == 503 and headers.get("retry-after"), headers
            with world.runtime.sessions() as session:
                assert _rows(session, victim.external_call_id) == 0  # nothing of it was committed
            # The pool recovers by itself: the retry and the next calls go through on new connections.
            assert send(server, world.token, victim)[0] == 201
            for _ in range(3):
                assert send(server, world.token, new_call(MONO))[0] == 201
        with world.runtime.sessions() as session:
            calls = session.scalar(select(func.count()).select_from(Recording))
            assert calls == 5 and _rows(session, victim.external_call_id) == 1

        # ---- mid-transcription: the jobs process's transaction dies with the transcript flushed, not committed
        env = settings_env(world.settings) | {CONTROL_ENV: str(control), FAKE_DELAY_ENV: "0.2"}
        (control / "armed").write_text("before_commit")
        worker = subprocess.Popen(
            [sys.executable, "-m", "tests.faults.transcribe_worker"], cwd=REPO, env=env, stderr=subprocess.PIPE
        )
        try:
            wait_for(control / "reached").unlink()
            killed_jobs = terminate(name)
            with world.runtime.sessions() as session:
                (job,) = session.scalars(select(TranscriptionJob).where(TranscriptionJob.state == "running")).all()
            release(control)
            # The attempt fails, nothing of it remains, and the job waits for its retry.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with world.runtime.sessions() as session:
                    again = session.get_one(TranscriptionJob, job.id)
                    if again.state == "queued":
                        break
                time.sleep(0.1)
            assert again.state == "queued" and "57P01" in (again.last_error or ""), again.last_error  # admin_shutdown
            with world.runtime.sessions() as session:
                partial = session.scalar(
                    select(func.count()).select_from(Transcript).where(Transcript.recording_id == job.recording_id)
                )
                assert partial == 0
                # Its retry is due in 30 s (the queue's backoff); the test moves that moment to now.
                session.execute(
                    update(TranscriptionJob)
                    .where(TranscriptionJob.id == job.id)
                    .values(next_attempt_at=utcnow() - timedelta(seconds=1))
                )
                session.commit()
            assert worker.wait(timeout=120) == 0
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        with world.runtime.sessions() as session:
            jobs = session.scalars(select(TranscriptionJob)).all()
            assert {each.state for each in jobs} == {"done"}
            assert {each.id: each.attempts for each in jobs if each.attempts != 1} == {job.id: 2}
            per_call = session.execute(select(Transcript.recording_id, func.count()).group_by(Transcript.recording_id))
            assert sorted(count for _, count in per_call) == [1] * calls
        result = reconcile_to_clean(world)
    assert result.first.orphans_deleted == 1  # the object of the ingest whose commit died
    print(
        f"ingest: {killed_web} connections killed before commit -> 503 with Retry-After, 0 rows, retry 201, "
        f"{calls} calls; transcription: {killed_jobs} connections killed before commit -> attempt failed, "
        f"0 transcript rows, resumed and done; reconcile removed {result.first.orphans_deleted} orphan, "
        "then 0 orphans / 0 missing"
    )


def _rows(session: Session, external_call_id: str) -> int:
    query = select(func.count()).select_from(Recording).where(Recording.external_call_id == external_call_id)
    return session.scalar(query) or 0
