"""The jobs an hour or more apart keep their rhythm over restarts. Found by an exploratory pass: the jobs process
first ran each job an interval after its own start, so one restarted each day (a deploy, a nightly restart,
`callvault run` restarted by its supervisor) never ran the daily retention sweep, and one restarted each week never
the integrity check. Each finish of those jobs is now kept, and a new process runs one that is due soon after its
start."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from jobs import leases
from jobs.__main__ import START_SETTLE, build_scheduler
from jobs.schedule import JOBS
from recordings_service import job_runs
from recordings_service.db import make_sessionmaker, utcnow
from recordings_service.runtime import Runtime

DAY = timedelta(days=1)


def own_runtime(runtime: Runtime, engine: Engine) -> Runtime:
    return replace(runtime, engine=engine, sessions=make_sessionmaker(engine))


def first_runs(runtime: Runtime) -> dict[str, datetime]:
    """When each job an hour or more apart first runs, as the scheduler would start it now."""
    now = utcnow()
    jobs = [job for job in build_scheduler(runtime).get_jobs() if job.trigger.interval >= timedelta(hours=1)]
    # A job given no first run starts its trigger's: an interval from the scheduler's start.
    return {job.id: getattr(job, "next_run_time", None) or job.trigger.get_next_fire_time(None, now) for job in jobs}


def test_a_new_process_runs_the_jobs_due_soon_and_the_others_when_due(runtime: Runtime, own_engine: Engine) -> None:
    jobs = own_runtime(runtime, own_engine)
    before = utcnow()
    never_run = first_runs(jobs)
    assert all(before + START_SETTLE <= at <= utcnow() + START_SETTLE for at in never_run.values()), never_run
    assert {"retention_sweep", "integrity_check", "audit_anchor", "research_reminders"} <= set(never_run)

    swept = utcnow() - timedelta(hours=2)
    with jobs.sessions() as session:
        job_runs.record_finished(session, "retention_sweep", swept)
        job_runs.record_finished(session, "integrity_check", utcnow() - 8 * DAY)  # its week is over
        session.commit()
    restarted = first_runs(jobs)
    assert restarted["retention_sweep"] == swept + DAY
    assert restarted["integrity_check"] <= utcnow() + START_SETTLE


def test_each_finish_of_a_remembered_job_is_recorded(runtime: Runtime, own_engine: Engine) -> None:
    jobs = own_runtime(runtime, own_engine)
    reminders = build_scheduler(jobs).get_job("research_reminders")
    assert reminders is not None
    started = utcnow()

    reminders.func(jobs)
    reminders.func(jobs)  # the second finish replaces the first

    with jobs.sessions() as session:
        finished = job_runs.last_finished(session, ["research_reminders", "transcribe"])
    assert list(finished) == ["research_reminders"] and started <= finished["research_reminders"] <= utcnow()


def test_a_failed_job_runs_again_soon_and_later_after_each_failure_in_a_row(runtime: Runtime, tmp_path: Path) -> None:
    """Found by a deployment pass: a daily or weekly job that failed (the database restarting for five minutes)
    waited its whole interval, the retention sweep a day and the integrity check a week."""
    gone = create_engine(f"sqlite:///{tmp_path / 'no-such-folder' / 'callvault.db'}")
    down = own_runtime(runtime, gone)
    scheduler = build_scheduler(down)
    hourly_and_longer = [job for job in JOBS if job.seconds >= 3600]
    for spec in hourly_and_longer:
        job = scheduler.get_job(spec.id)
        assert job is not None and job.name == spec.id  # APScheduler's lines name it
        waits = []
        for _ in range(3):
            failed_at = utcnow()
            with pytest.raises(Exception, match="unable to open database file"):
                job.func(down)
            job = scheduler.get_job(spec.id)
            assert job is not None
            waits.append(job.next_run_time - failed_at)
        interval = timedelta(seconds=spec.seconds)
        expected = [min(timedelta(minutes=minutes), interval) for minutes in (5, 10, 20)]
        assert all(want <= wait <= want + timedelta(seconds=5) for wait, want in zip(waits, expected, strict=True)), (
            spec.id,
            waits,
        )


def test_a_job_that_succeeds_again_is_retried_from_the_first_wait(runtime: Runtime, own_engine: Engine) -> None:
    jobs = own_runtime(runtime, own_engine)
    gone = own_runtime(runtime, create_engine("sqlite:////nonexistent-callvault/callvault.db"))
    scheduler = build_scheduler(jobs)
    job = scheduler.get_job("research_reminders")
    assert job is not None
    for _ in range(3):
        with pytest.raises(Exception, match="unable to open database file"):
            job.func(gone)
    job.func(jobs)
    failed_at = utcnow()
    with pytest.raises(Exception, match="unable to open database file"):
        job.func(gone)
    wait = scheduler.get_job("research_reminders").next_run_time - failed_at  # type: ignore[union-attr]
    assert timedelta(minutes=5) <= wait <= timedelta(minutes=5, seconds=5)


def test_a_job_failing_while_the_process_stops_is_not_moved(runtime: Runtime, tmp_path: Path) -> None:
    """Found by a review: a job that failed after the scheduler's shutdown raised `JobLookupError` over its own error
    (and with a shutdown waiting for running jobs, waited for its lock for good)."""
    down = own_runtime(runtime, create_engine(f"sqlite:///{tmp_path / 'gone' / 'callvault.db'}"))
    scheduler = build_scheduler(down)
    job = scheduler.get_job("research_reminders")
    assert job is not None
    first = job.next_run_time
    leases.STOPPING.set()
    try:
        with pytest.raises(Exception, match="unable to open database file"):
            job.func(down)
    finally:
        leases.STOPPING.clear()
    assert scheduler.get_job("research_reminders").next_run_time == first  # type: ignore[union-attr]
