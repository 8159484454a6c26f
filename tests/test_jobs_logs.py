"""The jobs process's log: a failed job is there, not two lines for every run of every five-second job."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from jobs.__main__ import quiet_scheduler_logs


def test_the_scheduler_logs_a_failing_job_and_not_every_successful_run(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logging.getLogger("apscheduler.executors"), "level", logging.NOTSET)  # restored after
    quiet_scheduler_logs()
    both_ran = threading.Barrier(3, timeout=10)

    def fine() -> None:
        both_ran.wait()

    def broken() -> None:
        both_ran.wait()
        raise RuntimeError("the store is down")

    scheduler = BackgroundScheduler()
    for job in (fine, broken):  # as the jobs process schedules them: on an interval, due now
        scheduler.add_job(job, "interval", seconds=60, next_run_time=datetime.now(UTC), id=job.__name__)
    with caplog.at_level(logging.INFO):
        scheduler.start()
        try:
            both_ran.wait()
        finally:
            scheduler.shutdown(wait=True)

    executor = [record for record in caplog.records if record.name.startswith("apscheduler.executors")]
    assert [record.levelname for record in executor] == ["ERROR"]
    assert "broken" in executor[0].getMessage() and executor[0].exc_info is not None
