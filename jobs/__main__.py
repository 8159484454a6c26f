"""`python -m jobs`: run the scheduler in the foreground until SIGINT/SIGTERM."""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from datetime import datetime, timedelta
from types import FrameType

from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.exc import DBAPIError

from jobs import leases
from jobs.schedule import JOBS, JobSpec
from recordings_service import job_runs
from recordings_service.db import utcnow
from recordings_service.errors import DomainError
from recordings_service.runtime import Runtime, process_runtime

log = logging.getLogger("jobs")
# Jobs this far apart keep their last finish in the database (the shorter ones would write a row every few seconds).
REMEMBERED_FROM_S = 3600
# How long after the start a job that is due already first runs: the process's start-up settles first.
START_SETTLE = timedelta(seconds=60)


class _SkipOverlapNotices(logging.Filter):
    """Drop APScheduler's notice that a still-running job was not started again.

    The transcribe job drains the queue in one run, so its frequent trigger overlaps by design;
    `max_instances=1` is the intended behaviour, not a warning every five seconds.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


def ready_jobs(runtime: Runtime, jobs: list[JobSpec]) -> list[JobSpec]:
    """The jobs whose start-up check passes; the others are reported and left out, the rest still run."""
    ready = []
    for job in jobs:
        if job.check is not None:
            try:
                job.check(runtime)
            except DomainError as exc:
                log.error("job disabled: %s", exc.message, extra={"job": job.id})
                continue
        ready.append(job)
    return ready


def build_scheduler(runtime: Runtime) -> BlockingScheduler:
    """Each ready job on its interval. One an hour or more apart first runs an interval after it last finished, in
    any process (at once, after `START_SETTLE`, when that is past or it never ran), and records each finish: the
    first run an interval after this process's start put a restarted process's daily and weekly jobs off for good."""
    scheduler = BlockingScheduler(timezone="UTC")
    ready = ready_jobs(runtime, JOBS)
    finished = _last_finished(runtime, [job.id for job in ready if remembered(job)])
    now = utcnow()
    for job in ready:
        run, timing = job.run, {}
        if remembered(job):
            run = _recording_finish(job, scheduler)
            interval = timedelta(seconds=job.seconds)
            timing["next_run_time"] = job_runs.first_run(finished.get(job.id), interval, now=now, soonest=START_SETTLE)
        scheduler.add_job(
            run,
            "interval",
            seconds=job.seconds,
            id=job.id,
            name=job.id,  # APScheduler's own lines (a job that raised) name it; by default `run`'s qualified name
            args=[runtime],
            coalesce=True,
            max_instances=1,
            misfire_grace_time=job.seconds,
            **timing,
        )
    return scheduler


def remembered(job: JobSpec) -> bool:
    return job.seconds >= REMEMBERED_FROM_S


def _last_finished(runtime: Runtime, job_ids: list[str]) -> dict[str, datetime]:
    try:
        with runtime.sessions() as session:
            return job_runs.last_finished(session, job_ids)
    except DBAPIError as exc:  # the database down at start: the jobs run soon, as never run, and fail or succeed then
        log.warning("last job runs not read: %s", type(exc.orig).__name__)
        return {}


def _recording_finish(job: JobSpec, scheduler: BlockingScheduler) -> Callable[[Runtime], object]:
    """`job.run` whose finish is recorded and which, failed, runs again soon (`job_runs.retry_after`)."""
    failures = 0

    def run(runtime: Runtime) -> object:
        nonlocal failures
        try:
            result = job.run(runtime)
        except Exception:
            failures += 1
            # A stopping scheduler has no job left to move (its shutdown may hold the lock modify_job waits for).
            if not leases.STOPPING.is_set():
                retry = job_runs.retry_after(failures, timedelta(seconds=job.seconds))
                # After APScheduler set the next run an interval on (it holds the job stores' lock while it does).
                scheduler.modify_job(job.id, next_run_time=utcnow() + retry)
                log.warning("job failed; trying again in %d s", retry.total_seconds(), extra={"job": job.id})
            raise
        failures = 0
        with runtime.sessions() as session:
            job_runs.record_finished(session, job.id, utcnow())
            session.commit()
        return result

    return run


def quiet_scheduler_logs() -> None:
    """Keep APScheduler to what needs a reader: a job that failed (ERROR), not its two INFO lines ("Running
    job", "executed successfully") for every run of every five-second job — about 5 000 lines an hour."""
    logging.getLogger("apscheduler.scheduler").addFilter(_SkipOverlapNotices())
    logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)


def main() -> None:
    runtime = process_runtime("jobs")
    quiet_scheduler_logs()
    scheduler = build_scheduler(runtime)

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping on signal", extra={"signal": signum})
        leases.STOPPING.set()
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("jobs process started", extra={"jobs": [job.id for job in JOBS]})
    scheduler.start()


if __name__ == "__main__":
    main()
