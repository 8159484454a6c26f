"""`GET /api/v1/audit-events`: the audit trail for a reader following it (a SIEM polling with an `audit` token)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from flask import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from spectree import Response as SpecResponse

from recordings_service import audit, audit_search
from recordings_service.audit_search import EventFilter
from recordings_service.iso_input import Moment
from recordings_service.permissions import Permission
from recordings_service.recordings import period_end
from web.access import current_actor, requires
from web.api import api_spec
from web.api.validation import ErrorBody, as_json, refuse_invalid, trimmed
from web.database import db

bp = Blueprint("audit_events_api", __name__, url_prefix="/api/v1")
MAX_PAGE = 500
# As wide as the columns they are compared with (an action's prefix with its "*"): a longer one matches nothing, and
# is refused naming the filter rather than answered with an empty page that reads as a quiet trail.
Actor = Annotated[str, trimmed(64, min_length=1)]
Action = Annotated[str, trimmed(65, min_length=1)]
ObjectType = Annotated[str, trimmed(32, min_length=1)]
ObjectId = Annotated[str, trimmed(64, min_length=1)]


class AuditEventsQuery(BaseModel):
    """Where to go on from, how many, and the audit page's filters (`/audit/`), combined with AND."""

    model_config = ConfigDict(extra="forbid")

    after_seq: int = Field(
        default=0, ge=0, description="events numbered above this, oldest first: the last page's `next_after_seq`"
    )
    limit: int = Field(default=100, ge=1, le=MAX_PAGE)
    actor: Actor | None = Field(default=None, description="an actor's id, or a username in any case")
    action: Action | None = Field(default=None, description='exact, or a prefix ending in "*" ("login.*")')
    object_type: ObjectType | None = None
    object_id: ObjectId | None = Field(
        default=None, description="its own events and those naming it in their details (a call's searches, holds)"
    )
    since: Moment | None = Field(default=None, description="occurred at or after this (an item's occurred_at)")
    until: Moment | None = Field(default=None, description="occurred before this (exclusive)")

    @field_validator("until")
    @classmethod
    def _after_start(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        return period_end(value, info, "since")


class AuditEventOut(BaseModel):
    """An event under the audit page's CSV export's column names, with its `id`, and its place in the chain."""

    seq: int = Field(description="its number in the chain, 1 up, without gaps")
    id: str
    occurred_at: str = Field(
        description="as its hash covers it (UTC, microseconds)", json_schema_extra={"format": "date-time"}
    )
    actor_id: str | None
    actor_name: str | None
    role: str | None = Field(description="the actor's role when it acted")
    action: str
    object_type: str | None
    object_id: str | None
    ip: str | None
    details: dict[str, Any] = Field(description="ids, counts and flags only")
    prev_hash: str = Field(description="the hash of event seq - 1 (64 zeros before the first)")
    hash: str = Field(
        description="HMAC-SHA256 under the key `key_id` names (plain SHA-256 where it names none) of `prev_hash` "
        "followed by the event's canonical JSON (every field above, keys sorted, no spaces, ASCII)"
    )
    key_id: str | None


class AuditEventPageOut(BaseModel):
    items: list[AuditEventOut]
    next_after_seq: int = Field(
        description="send it back as `after_seq`: the last item's seq on a full page; on a shorter one (none at all, "
        "too) the newest event's as the read began, which the page read through, filtered or not"
    )


@bp.get("/audit-events")
@requires(Permission.AUDIT_READ)
@api_spec.validate(
    resp=SpecResponse(HTTP_200=AuditEventPageOut, HTTP_422=ErrorBody), tags=["audit"], before=refuse_invalid
)
def list_events(query: AuditEventsQuery) -> tuple[Response, int]:
    """The audit trail oldest first, from `after_seq` on: a SIEM asks again from `next_after_seq` and gets every
    event once, in order, whatever is written meanwhile. Each read is audited (`audit.events_listed`), so a poller's
    next page holds its own last read."""
    # Named as the audit page's filters are (`EventFilter`), the query's other fields are the filter.
    filters = EventFilter(**query.model_dump(exclude={"after_seq", "limit"}))
    followed = audit_search.follow_events(
        db(), actor=current_actor(), filters=filters, after_seq=query.after_seq, limit=query.limit
    )
    db().commit()
    items = [AuditEventOut.model_validate(audit.event_record(event)) for event in followed.events]
    return as_json(AuditEventPageOut(items=items, next_after_seq=followed.through_seq))
