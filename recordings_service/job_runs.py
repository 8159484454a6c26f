"""The finish times of the periodic jobs that run an hour or more apart, so that a restarted jobs process keeps
their rhythm: a job is due an interval after it last finished, in whichever process that was, not an interval after
this process started (restarted each day, that never ran the daily retention sweep)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.db import upsert_insert
from recordings_service.models import JobRun


def last_finished(session: Session, job_ids: Iterable[str]) -> dict[str, datetime]:
    ids = list(job_ids)
    rows = session.execute(select(JobRun.job_id, JobRun.finished_at).where(JobRun.job_id.in_(ids)))
    return {job_id: finished_at for job_id, finished_at in rows}


def record_finished(session: Session, job_id: str, at: datetime) -> None:
    insert = upsert_insert(session)(JobRun).values(job_id=job_id, finished_at=at)
    session.execute(insert.on_conflict_do_update(index_elements=[JobRun.job_id], set_={"finished_at": at}))


def first_run(last: datetime | None, interval: timedelta, *, now: datetime, soonest: timedelta) -> datetime:
    """When a process starting `now` first runs a job last finished at `last`: an interval after that, and no
    sooner than `soonest` from now (its start-up settles first; never run, or overdue, it runs then)."""
    due = last + interval if last is not None else now
    return max(due, now + soonest)


# A failed job an hour or more apart (the database or the store away for a while) is tried again this long after,
# twice as long after each failure in a row, up to its interval: waiting its whole interval put a daily retention
# sweep off by a day after a five-minute outage, and a weekly integrity check by a week.
FIRST_RETRY = timedelta(minutes=5)


def retry_after(failures: int, interval: timedelta) -> timedelta:
    """How long after its `failures`-th failure in a row a job on `interval` is tried again."""
    doublings = min(failures - 1, 16)  # 5 minutes × 2^16 is beyond any interval: no overflow, the cap holds
    return min(FIRST_RETRY * (1 << doublings), interval)
