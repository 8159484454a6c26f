"""Score trends: average evaluation scores per ISO week, per question and per agent, critical-failure rates, and
counts for the dashboard.

A queue or agent is one in any letter case and Unicode form, as the call list matches them (`name_key`). An evaluation
keeps the spelling its call had when scored, with no key beside it: the few spellings of the evaluations a trend reads
are keyed in Python (the databases have no canonical caseless form: SQLite's `lower()` folds ASCII alone), and the
database then filters and counts by those spellings, through the columns' indexes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from recordings_service.db import utcnow
from recordings_service.decimals import one_decimal
from recordings_service.models import Evaluation, EvaluationAnswer, FormQuestion, FormSection, Recording
from recordings_service.models.evaluation import AnswerType, EvaluationState
from recordings_service.models.recording import name_key


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
    # One row per evaluation holding its latest submitted score: edits are versions, drafts never count.
    query = select(Evaluation.submitted_at, Evaluation.score).where(
        *_submitted_since(session, since, agent_ref=agent_ref, queue=queue), Evaluation.score.is_not(None)
    )
    buckets = {first + timedelta(weeks=n): _Bucket() for n in range(weeks)}
    for submitted, score in session.execute(query):
        bucket = buckets.get(week_start(submitted, tz)) if submitted is not None else None
        if bucket is not None and score is not None:
            bucket.total += score
            bucket.count += 1
    return [
        WeekScore(week_start=start, average=one_decimal(b.total / b.count) if b.count else None, count=b.count)
        for start, b in buckets.items()
    ]


def evaluated_calls_since(session: Session, *, since: datetime) -> int:
    """How many distinct calls were evaluated from `since` on."""
    query = select(func.count(func.distinct(Evaluation.recording_id))).where(
        *_submitted_since(session, since, agent_ref=None, queue=None)
    )
    return session.scalar(query) or 0


def queues_evaluated(session: Session) -> list[str]:
    """Queues that have an evaluation the trends count (submitted, of a call not restricted), for choosing a trend:
    one entry for the spellings of a queue (one `name_key`), the first in order, whose trend counts them all."""
    restricted = select(Recording.id).where(Recording.restricted.is_(True))
    query = select(Evaluation.queue).where(
        Evaluation.state == EvaluationState.SUBMITTED, Evaluation.recording_id.not_in(restricted)
    )
    first: dict[str, str] = {}
    for queue in session.scalars(query.distinct().order_by(Evaluation.queue)):
        first.setdefault(name_key(queue), queue)
    return list(first.values())


@dataclass(frozen=True)
class QuestionScore:
    """How well one question was met: 0-100 over the answers that were not N/A."""

    section: str
    question: str
    average: float | None
    answers: int
    critical: bool


@dataclass(frozen=True)
class AgentScore:
    """An agent's average over their scored evaluations (`count`, as a week's); `unscored` were all N/A."""

    agent_ref: str
    average: float | None
    count: int
    unscored: int


@dataclass(frozen=True)
class WeekRate:
    """The share (0-100) of a week's submitted evaluations that failed a critical question."""

    week_start: date
    rate: float | None
    failed: int
    count: int


def _submitted_since(
    session: Session, since: datetime, *, agent_ref: str | None, queue: str | None
) -> list[ColumnElement[bool]]:
    """Evaluations whose score that stands was submitted from `since` on (a week counts a re-score in the week it
    was made, not the week its draft began), of calls not restricted (GDPR Art. 18: no use but storage), of the
    agent and queue in any letter case and Unicode form."""
    restricted = select(Recording.id).where(Recording.restricted.is_(True))
    conditions = [
        Evaluation.submitted_at >= since,
        Evaluation.state == EvaluationState.SUBMITTED,
        Evaluation.recording_id.not_in(restricted),
    ]
    if agent_ref is not None:
        conditions.append(Evaluation.agent_ref.in_(spellings(session, Evaluation.agent_ref, agent_ref, since)))
    if queue is not None:
        conditions.append(Evaluation.queue.in_(spellings(session, Evaluation.queue, queue, since)))
    return conditions


def spellings(
    session: Session, column: InstrumentedAttribute[str], name: str, since: datetime | None = None
) -> list[str]:
    """The spellings of `name` (those of its `name_key`) evaluations were copied with (those submitted from `since`
    on): a trend of "SÄHKÖ" counted none of the evaluations of its calls sent as "Sähkö" (or typed decomposed)."""
    key = name_key(name)
    query = select(column).distinct()
    if since is not None:
        query = query.where(Evaluation.submitted_at >= since)
    found = session.scalars(query)
    return sorted(spelling for spelling in found if name_key(spelling) == key)


def answer_points(answer_type: str, value: str) -> float | None:
    """An answer as 0-100 for the per-question chart: yes 100, no 0, a scale 1-5 as 0-100; N/A counts nothing."""
    if answer_type == AnswerType.SCALE_1_5:
        return (int(value) - 1) * 25.0 if value in {"1", "2", "3", "4", "5"} else None
    return {"yes": 100.0, "no": 0.0}.get(value)


def question_scores(
    session: Session, *, since: datetime, agent_ref: str | None = None, queue: str | None = None
) -> list[QuestionScore]:
    """Each question's average since `since`, in form order; versions of a form share a question by its text."""
    rows = session.execute(
        select(
            FormSection.title,
            FormQuestion.text,
            FormQuestion.answer_type,
            FormQuestion.critical,
            EvaluationAnswer.value,
        )
        .join(FormQuestion, FormQuestion.id == EvaluationAnswer.question_id)
        .join(FormSection, FormSection.id == FormQuestion.section_id)
        .join(Evaluation, Evaluation.id == EvaluationAnswer.evaluation_id)
        .where(*_submitted_since(session, since, agent_ref=agent_ref, queue=queue))
        .order_by(FormSection.position, FormQuestion.position)
    )
    buckets: dict[tuple[str, str], _Bucket] = {}
    critical: dict[tuple[str, str], bool] = {}
    for section, text, answer_type, is_critical, value in rows:
        bucket = buckets.setdefault((section, text), _Bucket())
        critical[(section, text)] = critical.get((section, text), False) or is_critical
        points = answer_points(answer_type, value)
        if points is not None:
            bucket.total += points
            bucket.count += 1
    return [
        QuestionScore(
            section=section,
            question=text,
            average=one_decimal(b.total / b.count) if b.count else None,
            answers=b.count,
            critical=critical[(section, text)],
        )
        for (section, text), b in buckets.items()
    ]


def agent_scores(session: Session, *, since: datetime, queue: str | None = None) -> list[AgentScore]:
    """Each agent's average score since `since`, best first (agents with nothing scorable last).

    The count beside the average is of the evaluations it averages: an evaluation answered N/A throughout has no
    score, and is counted apart. An agent is one in any letter case and Unicode form (`name_key`), named by their
    first spelling in order: "Anna.K" and "anna.k" were two agents, each with part of the scores."""
    rows = session.execute(
        select(
            Evaluation.agent_ref,
            func.sum(Evaluation.score),
            func.count(Evaluation.score),  # COUNT(column) skips NULLs, as SUM does
            func.count(Evaluation.id),
        )
        .where(*_submitted_since(session, since, agent_ref=None, queue=queue))
        .group_by(Evaluation.agent_ref)
        .order_by(Evaluation.agent_ref)
    )
    agents: dict[str, tuple[str, float, int, int]] = {}
    for agent, total, scored, submitted in rows:
        name, before, scored_before, submitted_before = agents.get(name_key(agent), (agent, 0.0, 0, 0))
        agents[name_key(agent)] = (
            name,
            before + float(total or 0),
            scored_before + scored,
            submitted_before + submitted,
        )
    scores = [
        AgentScore(
            agent_ref=name,
            average=one_decimal(total / scored) if scored else None,
            count=scored,
            unscored=submitted - scored,
        )
        for name, total, scored, submitted in agents.values()
    ]
    return sorted(scores, key=lambda item: (item.average is None, -(item.average or 0), item.agent_ref))


def weekly_critical_failures(
    session: Session,
    *,
    weeks: int,
    now: datetime | None = None,
    agent_ref: str | None = None,
    queue: str | None = None,
    tz: tzinfo = UTC,
) -> list[WeekRate]:
    """Per ISO week (in `tz`), the share of submitted evaluations failing a critical question, oldest first."""
    since = week_began(now or utcnow(), tz) - timedelta(weeks=weeks - 1)
    counts = {since.date() + timedelta(weeks=n): [0, 0] for n in range(weeks)}
    rows = session.execute(
        select(Evaluation.submitted_at, Evaluation.critical_failed).where(
            *_submitted_since(session, since, agent_ref=agent_ref, queue=queue)
        )
    )
    for submitted, failed in rows:
        count = counts.get(week_start(submitted, tz)) if submitted is not None else None
        if count is not None:
            count[0] += int(failed)
            count[1] += 1
    return [
        WeekRate(
            week_start=start, rate=one_decimal(100 * failed / total) if total else None, failed=failed, count=total
        )
        for start, (failed, total) in counts.items()
    ]
