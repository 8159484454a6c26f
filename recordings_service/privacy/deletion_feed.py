"""The deletion feed: which of the recordings an actor may see were deleted, and when, for the copies kept elsewhere.

A sync job copying call metadata (`GET /api/v1/recordings?ingested_from=…`) cannot learn from those filters that a
call went (an erasure, the retention sweep): an erased call keeps its `created_at`, and deleted calls are listed to
compliance only. The feed lists their tombstones by id and moment alone: never the reason (an `erasure` would tell
the copy's readers that a customer exercised a right), the customer or anything else of the call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.db import cursor_key, cursor_moment, key_cursor
from recordings_service.errors import Invalid
from recordings_service.iso_input import Moment
from recordings_service.models import Recording, Tombstone
from recordings_service.recordings import MAX_PAGE, period_end, visible_to

# Stable page order, oldest deletion first: the recording's id breaks ties (a sweep's batch shares its moment).
OLDEST_FIRST = (Tombstone.deleted_at, Tombstone.recording_id)


class DeletionWindow(BaseModel):
    """When the deletions listed were made; checked as the call list's `ingested_from`/`ingested_to` are."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    deleted_from: Moment | None = Field(default=None, description="deleted at or after this (an item's deleted_at)")
    deleted_to: Moment | None = Field(default=None, description="deleted before this (exclusive)")

    @field_validator("deleted_to")
    @classmethod
    def _after_start(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        return period_end(value, info, "deleted_from")


@dataclass(frozen=True)
class DeletedRecording:
    id: str
    deleted_at: datetime


@dataclass(frozen=True)
class DeletionPage:
    items: list[DeletedRecording]
    next_cursor: str | None


def list_deletions(
    session: Session, *, actor: Actor, window: DeletionWindow, cursor: str | None = None, limit: int = 50
) -> DeletionPage:
    """The deleted recordings `actor` may see (`visible_to`: a deleted call's row keeps what decides it), oldest
    deletion first; the cursor names the last row seen by its moment and id, so pages hold while calls are deleted."""
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid("limit", f"must be between 1 and {MAX_PAGE}", code="out_of_range")
    query = (
        select(Tombstone.recording_id, Tombstone.deleted_at)
        .join(Recording, Recording.id == Tombstone.recording_id)
        .where(visible_to(actor))
    )
    if window.deleted_from is not None:
        query = query.where(Tombstone.deleted_at >= window.deleted_from)
    if window.deleted_to is not None:
        query = query.where(Tombstone.deleted_at < window.deleted_to)
    if cursor:
        query = query.where(_after_cursor(cursor))
    rows = session.execute(query.order_by(*OLDEST_FIRST).limit(limit + 1)).all()
    items = [DeletedRecording(id=recording_id, deleted_at=deleted_at) for recording_id, deleted_at in rows[:limit]]
    more = len(rows) > limit
    return DeletionPage(
        items=items, next_cursor=key_cursor(items[-1].deleted_at.isoformat(), items[-1].id) if more else None
    )


def browse_deletions(
    session: Session, *, actor: Actor, window: DeletionWindow, cursor: str | None = None, limit: int = 50
) -> DeletionPage:
    """A page of `list_deletions` for a person or client, audited as `recording.deletions_listed`, as a page of the
    call list is: counts and which window bounds were given, never ids or moments."""
    page = list_deletions(session, actor=actor, window=window, cursor=cursor, limit=limit)
    used = sorted(name for name, value in window.model_dump().items() if value is not None)
    record_event(
        session,
        actor=actor,
        action="recording.deletions_listed",
        object_type="recording",
        details={"results": len(page.items), "next_page": cursor is not None, "filters": used},
    )
    return page


def _after_cursor(cursor: str) -> ColumnElement[bool]:
    """Rows after the one the cursor names, in OLDEST_FIRST order."""
    (deleted_at,), last_id = cursor_key(cursor, 2)
    moment = cursor_moment(deleted_at)
    return or_(Tombstone.deleted_at > moment, and_(Tombstone.deleted_at == moment, Tombstone.recording_id > last_id))
