"""Score trends: average evaluation scores per ISO week, and counts for the dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.models import Evaluation


@dataclass(frozen=True)
class WeekScore:
    week_start: date  # the Monday
    average: float | None  # None for a week without scored evaluations
    count: int

    @property
    def label(self) -> str:
        year, week, _ = self.week_start.isocalendar()
        return f"{year}-W{week:02d}"


@dataclass
class _Bucket:
    total: float = 0.0
    count: int = 0


def week_start(moment: datetime, tz: tzinfo = UTC) -> date:
    """The Monday of the ISO week `moment` falls in, in time zone `tz`."""
    day = moment.astimezone(tz).date()
    return day - timedelta(days=day.weekday())


def week_began(moment: datetime, tz: tzinfo = UTC) -> datetime:
    """The instant the ISO week of `moment` began: Monday 00:00 in `tz`."""
    return datetime.combine(week_start(moment, tz), time(), tzinfo=tz)


def weekly_scores(
    session: Session,
    *,
    weeks: int,
    now: datetime | None = None,
    agent_ref: str | None = None,
    queue: str | None = None,
    tz: tzinfo = UTC,
) -> list[WeekScore]:
    """Average score per ISO week for the last `weeks` weeks (this one included), oldest first.

    Weeks are bucketed in Python: SQLite has no ISO-week function and PostgreSQL's differs, and a
    trend reads only a few thousand (time, score) pairs.
    """
    since = week_began(now or utcnow(), tz) - timedelta(weeks=weeks - 1)
    first = since.date()
    query = select(Evaluation.created_at, Evaluation.score).where(
        Evaluation.created_at >= since, Evaluation.score.is_not(None)
    )
    if agent_ref is not None:
        query = query.where(Evaluation.agent_ref == agent_ref)
    if queue is not None:
        query = query.where(Evaluation.queue == queue)
    buckets = {first + timedelta(weeks=n): _Bucket() for n in range(weeks)}
    for created, score in session.execute(query):
        bucket = buckets.get(week_start(created, tz))
        if bucket is not None and score is not None:
            bucket.total += score
            bucket.count += 1
    return [
        WeekScore(week_start=start, average=round(b.total / b.count, 1) if b.count else None, count=b.count)
        for start, b in buckets.items()
    ]


def evaluated_calls_since(session: Session, *, since: datetime) -> int:
    """How many distinct calls were evaluated from `since` on."""
    query = select(func.count(func.distinct(Evaluation.recording_id))).where(Evaluation.created_at >= since)
    return session.scalar(query) or 0


def queues_evaluated(session: Session) -> list[str]:
    """Queues that have evaluations, for choosing a trend."""
    return list(session.scalars(select(Evaluation.queue).distinct().order_by(Evaluation.queue)))
