"""`python -m jobs`: run the scheduler in the foreground until SIGINT/SIGTERM."""

from __future__ import annotations

import logging
import signal
from types import FrameType

from apscheduler.schedulers.blocking import BlockingScheduler

from jobs.schedule import JOBS, JobSpec
from recordings_service.audit import ForeignAuditKey
from recordings_service.config import Settings
from recordings_service.errors import DomainError
from recordings_service.logs import configure_logging
from recordings_service.runtime import Runtime

log = logging.getLogger("jobs")


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
    scheduler = BlockingScheduler(timezone="UTC")
    for job in ready_jobs(runtime, JOBS):
        scheduler.add_job(
            job.run,
            "interval",
            seconds=job.seconds,
            id=job.id,
            args=[runtime],
            coalesce=True,
            max_instances=1,
            misfire_grace_time=job.seconds,
        )
    return scheduler


def quiet_scheduler_logs() -> None:
    """Keep APScheduler to what needs a reader: a job that failed (ERROR), not its two INFO lines ("Running
    job", "executed successfully") for every run of every five-second job — about 5 000 lines an hour."""
    logging.getLogger("apscheduler.scheduler").addFilter(_SkipOverlapNotices())
    logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)


def main() -> None:
    settings = Settings.from_env()
    configure_logging(settings)
    quiet_scheduler_logs()
    runtime = Runtime.from_settings(settings)
    try:
        runtime.check_audit_key()
    except ForeignAuditKey as exc:
        log.error("jobs process not started: %s", exc)
        raise SystemExit(1) from None
    scheduler = build_scheduler(runtime)

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping on signal", extra={"signal": signum})
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("jobs process started", extra={"jobs": [job.id for job in JOBS]})
    scheduler.start()


if __name__ == "__main__":
    main()
