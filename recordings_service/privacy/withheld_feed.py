"""The withheld feed: which recordings were withheld from everyday use, or given back to it, and when, for the
copies kept elsewhere (GDPR Art. 19: a restriction is told to each recipient).

A sync job copying call metadata (`GET /api/v1/recordings?ingested_from=…`) learns of deletions from the deletion
feed, but a call restricted (Art. 18) or kept by its customer's erasure for a legal duty stays in the database, and
the call list stops showing it to anyone but compliance: the copy, made while the call was in everyday use, kept
using it. The feed lists such calls by id, whether they are withheld now and the moment that last changed, nothing
else: never why (a restriction or an erasure would tell the copy's readers which right a customer used).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.iso_input import Moment
from recordings_service.models import Recording
from recordings_service.privacy.deletion_feed import told_of_deletion
from recordings_service.privacy.feed_pages import feed_page
from recordings_service.recordings import in_everyday_use, period_end, record_page_read

CURSOR_TAG = "withheld"


class WithheldWindow(BaseModel):
    """When the changes listed were made; checked as the call list's `ingested_from`/`ingested_to` are."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    changed_from: Moment | None = Field(default=None, description="changed at or after this (an item's changed_at)")
    changed_to: Moment | None = Field(default=None, description="changed before this (exclusive)")

    @field_validator("changed_to")
    @classmethod
    def _after_start(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        return period_end(value, info, "changed_from")


@dataclass(frozen=True)
class WithheldChange:
    id: str
    withheld: bool
    changed_at: datetime


@dataclass(frozen=True)
class WithheldPage:
    items: list[WithheldChange]
    next_cursor: str | None


def list_withheld(
    session: Session, *, actor: Actor, window: WithheldWindow, cursor: str | None = None, limit: int = 50
) -> WithheldPage:
    """The recordings withheld from everyday use or given back to it that `actor` is told of (`told_of_deletion`:
    a copy may hold any call that was in everyday use), oldest change first, each as it stands now."""
    query = select(Recording.id, Recording.withheld_changed_at, in_everyday_use().label("in_use")).where(
        Recording.withheld_changed_at.is_not(None), told_of_deletion(actor)
    )
    rows, next_cursor = feed_page(
        session,
        query,
        moment=Recording.withheld_changed_at,
        row_id=Recording.id,
        window=(window.changed_from, window.changed_to),
        cursor=cursor,
        tag=CURSOR_TAG,
        limit=limit,
    )
    items = [WithheldChange(id=row.id, withheld=not row.in_use, changed_at=row.withheld_changed_at) for row in rows]
    return WithheldPage(items=items, next_cursor=next_cursor)


def browse_withheld(
    session: Session, *, actor: Actor, window: WithheldWindow, cursor: str | None = None, limit: int = 50
) -> WithheldPage:
    """A page of `list_withheld` for a person or client, audited as `recording.withheld_listed`, as a page of the
    call list is: counts and which window bounds were given, never ids or moments."""
    page = list_withheld(session, actor=actor, window=window, cursor=cursor, limit=limit)
    action = "recording.withheld_listed"
    record_page_read(session, actor=actor, action=action, filters=window, results=len(page.items), cursor=cursor)
    return page
