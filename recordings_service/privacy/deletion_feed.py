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
from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.iso_input import Moment
from recordings_service.models import Recording, Tombstone
from recordings_service.models.account import Role
from recordings_service.privacy.feed_pages import feed_page
from recordings_service.recordings import period_end, record_page_read, visible_to

# Oldest deletion first, the recording's id breaking ties (a sweep's batch shares its moment): `feed_page`.
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
    query = (
        select(Tombstone.recording_id, Tombstone.deleted_at)
        .join(Recording, Recording.id == Tombstone.recording_id)
        .where(told_of_deletion(actor))
    )
    rows, next_cursor = feed_page(
        session,
        query,
        moment=Tombstone.deleted_at,
        row_id=Tombstone.recording_id,
        window=(window.deleted_from, window.deleted_to),
        cursor=cursor,
        tag=CURSOR_TAG,
        limit=limit,
    )
    items = [DeletedRecording(id=row.recording_id, deleted_at=row.deleted_at) for row in rows]
    return DeletionPage(items=items, next_cursor=next_cursor)


def browse_deletions(
    session: Session, *, actor: Actor, window: DeletionWindow, cursor: str | None = None, limit: int = 50
) -> DeletionPage:
    """A page of `list_deletions` for a person or client, audited as `recording.deletions_listed`, as a page of the
    call list is: counts and which window bounds were given, never ids or moments."""
    page = list_deletions(session, actor=actor, window=window, cursor=cursor, limit=limit)
    action = "recording.deletions_listed"
    record_page_read(session, actor=actor, action=action, filters=window, results=len(page.items), cursor=cursor)
    return page
