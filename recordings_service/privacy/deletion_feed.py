"""The deletion feed: which recordings were deleted, and when, for the copies kept elsewhere.

A sync job copying call metadata (`GET /api/v1/recordings?ingested_from=…`) cannot learn from those filters that a
call went (an erasure, the retention sweep): an erased call keeps its `created_at`, and deleted calls are listed to
compliance only. The feed lists their tombstones by id and moment alone: never the reason (an `erasure` would tell
the copy's readers that a customer exercised a right), the customer or anything else of the call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy import ColumnElement, and_, or_, select, true
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.db import cursor_key, cursor_moment, key_cursor
from recordings_service.errors import Invalid
from recordings_service.iso_input import Moment
from recordings_service.models import Recording, Tombstone
from recordings_service.models.account import Role
from recordings_service.recordings import MAX_PAGE, period_end, record_page_read, visible_to

# Stable page order, oldest deletion first: the recording's id breaks ties (a sweep's batch shares its moment).
OLDEST_FIRST = (Tombstone.deleted_at, Tombstone.recording_id)
# The call list's cursors have the same shape (a moment, an id): one passed here was read as a deletion's moment.
CURSOR_TAG = "deletions"


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


def told_of_deletion(actor: Actor) -> ColumnElement[bool]:
    """Whose deletions `actor` is told of: every call's, but an agent's own calls' only.

    Not `visible_to`, deliberately: a call restricted (Art. 18) or kept by an erasure for a legal duty is hidden from
    everyday use, but it was in everyday use before, and a sync job may have copied it then. Those are the calls of
    customers who used their rights, whose deletion a copy needs most; listed as `visible_to` lists them, their
    deletion reached compliance's feed only. An id and a moment say nothing of the call."""
    return visible_to(actor) if actor.role == Role.AGENT else true()


def list_deletions(
    session: Session, *, actor: Actor, window: DeletionWindow, cursor: str | None = None, limit: int = 50
) -> DeletionPage:
    """The deleted recordings `actor` is told of (`told_of_deletion`), oldest deletion first; the cursor names the
    last row seen by its moment and id, so pages hold while calls are deleted."""
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid("limit", f"must be between 1 and {MAX_PAGE}", code="out_of_range")
    query = (
        select(Tombstone.recording_id, Tombstone.deleted_at)
        .join(Recording, Recording.id == Tombstone.recording_id)
        .where(told_of_deletion(actor))
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
        items=items,
        next_cursor=key_cursor(CURSOR_TAG, items[-1].deleted_at.isoformat(), items[-1].id) if more else None,
    )


def browse_deletions(
    session: Session, *, actor: Actor, window: DeletionWindow, cursor: str | None = None, limit: int = 50
) -> DeletionPage:
    """A page of `list_deletions` for a person or client, audited as `recording.deletions_listed`, as a page of the
    call list is: counts and which window bounds were given, never ids or moments."""
    page = list_deletions(session, actor=actor, window=window, cursor=cursor, limit=limit)
    action = "recording.deletions_listed"
    record_page_read(session, actor=actor, action=action, filters=window, results=len(page.items), cursor=cursor)
    return page


def _after_cursor(cursor: str) -> ColumnElement[bool]:
    """Rows after the one the cursor names, in OLDEST_FIRST order."""
    (tag, deleted_at), last_id = cursor_key(cursor, 3)
    if tag != CURSOR_TAG:
        raise Invalid("cursor", "not a cursor of this list", code="invalid_cursor")
    moment = cursor_moment(deleted_at)
    return or_(Tombstone.deleted_at > moment, and_(Tombstone.deleted_at == moment, Tombstone.recording_id > last_id))
