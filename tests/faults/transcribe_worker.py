"""`python -m tests.faults.transcribe_worker`: a jobs process that runs only the transcription job, as
`python -m jobs` does every few seconds, until the queue is empty; with the fault tests' pause points
when CALLVAULT_TEST_FAULT_DIR is set (see pause_points.py)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy import func, select

from jobs.transcription import check_model, transcribe_pending
from recordings_service.config import Settings
from recordings_service.models import TranscriptionJob
from recordings_service.runtime import Runtime
from tests.faults.gunicorn_pause import CONTROL_ENV
from tests.faults.pause_points import install_transcription

DEADLINE_S = 180.0


def main() -> None:
    runtime = Runtime.from_settings(Settings.from_env())
    if CONTROL_ENV in os.environ:
        install_transcription(Path(os.environ[CONTROL_ENV]))
    check_model(runtime)
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        transcribe_pending(runtime, budget_s=30)
        with runtime.sessions() as session:
            open_jobs = session.scalar(
                select(func.count())
                .select_from(TranscriptionJob)
                .where(TranscriptionJob.state.in_(["queued", "running"]))
            )
        if not open_jobs:
            return
        time.sleep(0.2)
    raise SystemExit("the queue was not empty in time")


if __name__ == "__main__":
    main()
