"""Finding calls: metadata filters and full-text search of transcripts, with highlighted snippets.

The transcripts' words are matched by `calls.transcript_matches`.

Queue and agent filters match regardless of case, in any alphabet and either Unicode form (by `name_key`). The list
sorts by start, duration, queue, agent or score, with the id breaking ties; newest first pages by cursor (`cursor` for
older calls, `before` for newer ones), other orders by offset.

Restricted recordings appear for the compliance role only. Snippets are transcript text, so they are
returned only to those who may read transcripts; others get the matching calls' metadata.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field, StringConstraints, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.calls.tags import MAX_TAG_CHARS, tag_key
from recordings_service.calls.transcript_matches import (
    SegmentHit,
    calls_saying,
    checked_words,
    snippet_hits,
)
from recordings_service.errors import Invalid
from recordings_service.evaluations.holding import submitted_by_assignee
from recordings_service.evaluations.lookup import LATEST_FIRST, SUBMITTED, latest_score
from recordings_service.models import Assignment, CallTag, Evaluation, Recording, User
from recordings_service.models.account import Role
from recordings_service.models.recording import RecordingStatus
from recordings_service.permissions import Permission, allowed
from recordings_service.recordings import (
    MAX_PAGE,
    NEWEST_FIRST,
    RecordingFilters,
    after_cursor,
    apply_filters,
    decode_cursor,
    encode_cursor,
    visible_to,
)
from recordings_service.training_rules import TrainingRules, usable_for_training

SORTS = ("started", "duration", "queue", "agent", "score")
# Drafts are work in progress: the list's score, evaluator and evaluation filters count submitted ones only.


class SearchFilters(RecordingFilters):
    """Recording metadata filters plus the evaluation ones (the latest evaluation's score counts)."""

    evaluated: bool | None = None
    # True: open on a supervisor's list (assigned, its assignee has not submitted an evaluation of it); False: on
    # nobody's list, where a lead looks for calls to assign (a bulk Assign of a held call is refused).
    assigned: bool | None = None
    # A blank tag names no tag: refused, as a blank queue is, rather than answered with an empty page.
    tag: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TAG_CHARS)] | None = None
    score_min: float | None = Field(default=None, ge=0, le=100)
    score_max: float | None = Field(default=None, ge=0, le=100)

    @field_validator("score_max")
    @classmethod
    def _not_below_minimum(cls, value: float | None, info: ValidationInfo) -> float | None:
        minimum = info.data.get("score_min")
        if value is not None and minimum is not None and value < minimum:
            raise PydanticCustomError("out_of_range", "must not be below the minimum score")
        return value


@dataclass(frozen=True)
class CallResult:
    recording: Recording
    hits: list[SegmentHit]
    evaluated: bool
    score: float | None
    evaluator: str | None = None  # who scored the latest evaluation (username)


@dataclass(frozen=True)
class SearchPage:
    items: list[CallResult]
    next_cursor: str | None
    snippets: bool  # False when the actor may not read transcripts: hits are left empty
    next_offset: int | None = None  # the next page of an order other than newest first
    previous_cursor: str | None = None  # `before` of the newer page (None on the first page)
    previous_offset: int | None = None  # the previous page of an order other than newest first


def search_calls(
    session: Session,
    *,
    actor: Actor,
    query: str = "",
    filters: SearchFilters,
    cursor: str | None = None,
    before: str | None = None,
    limit: int = 50,
    snippets: bool = True,
    sort: str = "started",
    descending: bool = True,
    offset: int = 0,
    training_rules: TrainingRules | None = None,
) -> SearchPage:
    """Calls matching the words (all of them) and the filters, sorted by `sort` (newest first by default);
    audited as `recording.searched`.

    `cursor` (a page's `next_cursor`) pages to older calls, `before` (its `previous_cursor`) to the newer page
    above it; `snippets=False` lets the caller narrow further (an API token whose scope excludes transcripts).
    A trainer's words match only the calls trainers may use (`training_rules`, the settings' rules; None: their
    defaults): which words a call taken out of training says is not theirs to learn, even without snippets.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid("limit", f"must be between 1 and {MAX_PAGE}", code="out_of_range")
    if sort not in SORTS:
        raise Invalid("sort", f"one of: {', '.join(SORTS)}", code="invalid_choice")
    if offset < 0:
        raise Invalid("offset", "must not be negative", code="out_of_range")
    newest_first = sort == "started" and descending
    for name, given in (("cursor", cursor), ("before", before)):
        if given and not newest_first:
            raise Invalid(name, "a cursor pages the newest-first order only", code="invalid_cursor")
    if cursor and before:
        raise Invalid("before", "page one way at a time: cursor or before", code="invalid_cursor")
    words = checked_words(query)
    dialect = session.get_bind().dialect.name
    statement = _evaluation_filtered(apply_filters(select(Recording).where(visible_to(actor)), filters), filters)
    statement = statement.where(Recording.status != RecordingStatus.DELETED)
    if words:
        if actor.role == Role.TRAINER:
            statement = statement.where(usable_for_training(training_rules or TrainingRules()))
        narrowed = filters != SearchFilters()
        statement = statement.where(
            calls_saying(session, dialect, words, language=filters.language, scope=statement if narrowed else None)
        )
    newer_page = _newer_page(session, statement, before, limit) if before else None
    if newer_page is not None:
        page, more = newer_page
        # Newer calls than these exist, so this is not the first page: `before` of its first call pages up again.
        previous_cursor: str | None = encode_cursor(page[0])
    else:
        if cursor:
            # The first condition is implied by the second; it bounds the newest-first index walk.
            statement = statement.where(Recording.started_at <= decode_cursor(cursor)[0], after_cursor(cursor))
        if newest_first:
            statement = statement.order_by(*NEWEST_FIRST)
        else:
            statement = statement.order_by(*_order(sort, descending)).offset(offset)
        rows = list(session.scalars(statement.limit(limit + 1)))
        page = rows[:limit]
        more = len(rows) > limit
        previous_cursor = encode_cursor(page[0]) if cursor and page else None
    ids = [recording.id for recording in page]
    show_snippets = bool(words) and snippets and allowed(role=actor.role, permission=Permission.TRANSCRIPT_READ)
    hits = snippet_hits(session, dialect, words, ids) if show_snippets and ids else {}
    latest = latest_evaluations(session, ids)
    record_event(
        session,
        actor=actor,
        action="recording.searched",
        object_type="recording",
        # Counts only: the words searched for may themselves be personal data (a name, a number).
        details={
            "query_chars": len(words),
            "results": len(page),
            "next_page": cursor is not None or before is not None,
            "snippets": show_snippets,
            # Snippets are transcript text: the trail names whose words were shown, as it does for a transcript read.
            "snippet_recordings": ",".join(recording_id for recording_id in ids if hits.get(recording_id)),
        },
    )
    return SearchPage(
        items=[
            CallResult(
                recording=recording,
                hits=hits.get(recording.id, []),
                evaluated=recording.id in latest,
                score=latest[recording.id][0] if recording.id in latest else None,
                evaluator=latest[recording.id][1] if recording.id in latest else None,
            )
            for recording in page
        ],
        next_cursor=encode_cursor(page[-1]) if more and newest_first else None,
        snippets=show_snippets,
        next_offset=offset + limit if more and not newest_first else None,
        previous_cursor=previous_cursor,
        previous_offset=max(offset - limit, 0) if offset and not newest_first else None,
    )


def _newer_page(
    session: Session, statement: Select[Any], before: str, limit: int
) -> tuple[list[Recording], bool] | None:
    """The `limit` calls just newer than the one `before` names (newest first) and whether older ones follow them;
    None when no call newer than those is left, so that the page up is the first page, as its own link shows it."""
    try:
        started_at, first_id = decode_cursor(before)
    except Invalid as exc:
        raise Invalid("before", exc.message, code=exc.code) from None
    newer = or_(Recording.started_at > started_at, and_(Recording.started_at == started_at, Recording.id > first_id))
    rows = list(
        session.scalars(
            # The first condition is implied by the second; it bounds the index walk, as `after_cursor`'s does.
            statement.where(Recording.started_at >= started_at, newer)
            .order_by(Recording.started_at.asc(), Recording.id.asc())
            .limit(limit + 1)
        )
    )
    if len(rows) <= limit:
        return None
    page = rows[:limit][::-1]
    older = session.scalar(select(statement.where(after_cursor(encode_cursor(page[-1]))).exists()))
    return page, bool(older)


def _order(sort: str, descending: bool) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """The list's order: the column (calls without a value last either way), then the id, so pages never overlap."""
    column: ColumnElement[Any] = {
        "started": Recording.started_at,
        "duration": Recording.duration_s,
        "queue": Recording.queue_key,
        "agent": Recording.agent_key,
        "score": latest_score(),
    }[sort]
    if descending:
        return column.desc().nulls_last(), Recording.id.desc()
    return column.asc().nulls_last(), Recording.id.asc()


def _evaluation_filtered(statement: Select[Any], filters: SearchFilters) -> Select[Any]:
    scored = exists().where(Evaluation.recording_id == Recording.id, SUBMITTED)
    if filters.evaluated is True:
        statement = statement.where(scored)
    elif filters.evaluated is False:
        statement = statement.where(~scored)
    if filters.assigned is not None:
        held = exists().where(Assignment.recording_id == Recording.id, ~submitted_by_assignee())
        statement = statement.where(held if filters.assigned else ~held)
    if filters.tag:
        statement = statement.where(
            exists().where(CallTag.recording_id == Recording.id, CallTag.key == tag_key(filters.tag))
        )
    if filters.score_min is not None or filters.score_max is not None:
        latest = latest_score()
        if filters.score_min is not None:
            statement = statement.where(latest >= filters.score_min)
        if filters.score_max is not None:
            statement = statement.where(latest <= filters.score_max)
    return statement


def latest_evaluations(session: Session, ids: Sequence[str]) -> dict[str, tuple[float | None, str]]:
    """The latest evaluation's score (None: nothing was scorable) and evaluator of each evaluated call among `ids`."""
    if not ids:
        return {}
    rows = session.execute(
        select(Evaluation.recording_id, Evaluation.score, User.username)
        .join(User, User.id == Evaluation.evaluator_id)
        .where(Evaluation.recording_id.in_(ids), SUBMITTED)
        .order_by(Evaluation.recording_id, *LATEST_FIRST)
    )
    latest: dict[str, tuple[float | None, str]] = {}
    for recording_id, score, evaluator in rows:
        latest.setdefault(recording_id, (score, evaluator))
    return latest


def known_values(session: Session, *, actor: Actor, field: str, limit: int = 500) -> list[str]:
    """The distinct queues (`field="queue"`) or agents (`"agent_ref"`) of the calls `actor` sees, for a picker.

    Values differing only in case or Unicode form (one `name_key`) are offered once, in the spelling met first
    alphabetically, which finds the calls of every spelling.
    """
    named = {"queue": (Recording.queue, Recording.queue_key), "agent_ref": (Recording.agent_ref, Recording.agent_key)}
    column, key = named[field]
    return list(
        session.scalars(
            select(func.min(column))
            .where(visible_to(actor), Recording.status != RecordingStatus.DELETED, column != "")
            .group_by(key)
            .order_by(key)
            .limit(limit)
        )
    )
