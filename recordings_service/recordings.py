"""Reading recordings: who may see which (`visible_to`), list with cursor pagination, and load one
(`get_playable_recording`); `originals` reads the stored original (`playback` audits what is served).

Every capability that lists, searches, selects or reads recordings goes through these two, so the
object-level rule is written once: a recording hidden from an actor does not exist for them, and a
request for it is refused with an audit event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal, TypeVar, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError
from sqlalchemy import ColumnElement, ScalarSelect, Select, and_, or_, select, true
from sqlalchemy.orm import Session, aliased

from recordings_service.audio.formats import format_of
from recordings_service.audit import Actor, record_event
from recordings_service.calendar_days import day_start
from recordings_service.customers import customer_reference
from recordings_service.db import cursor_key, cursor_moment, key_cursor
from recordings_service.errors import Invalid, NotFound, Refusal
from recordings_service.iso_input import Moment
from recordings_service.models import Customer, Evaluation, Recording, User
from recordings_service.models.account import Role
from recordings_service.models.recording import MAX_AGENT_REF, MAX_QUEUE, RecordingStatus, name_key

MAX_PAGE = 200
MAX_CHOSEN = 500  # calls one bulk action (tag, assign, export) may name
# Stable page order: the id breaks ties between calls that started in the same instant.
NEWEST_FIRST = (Recording.started_at.desc(), Recording.id.desc())
# Rows whose audio cannot be served: deleted, or its object is missing (reconcile flagged it).
UNPLAYABLE = {RecordingStatus.DELETED, RecordingStatus.MISSING_OBJECT}
_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")


# The languages a call is stored with, as ingest takes them from the telephony system ("auto": it did not say).
Language = Literal["fi", "sv", "en", "auto"]
LANGUAGES: tuple[str, ...] = get_args(Language)
# A queue's or agent's name as input, as calls are stored with it (a sender's padding stripped, at most the column's
# width): research and training criteria, like the call lists, match it by its key (`name_key`), so a blank or longer
# name would select no call.
QueueName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_QUEUE)]
AgentName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_AGENT_REF)]


class RecordingFilters(BaseModel):
    """Metadata filters of the call list, the search and the calls page (one declaration for all three)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    started_from: Moment | None = None
    started_to: Moment | None = Field(default=None, description="exclusive")
    # When the call was stored (its `created_at`), not when it was made: an archive or a retry queue imports calls
    # made long before, which a sync job that asks by start never sees.
    ingested_from: Moment | None = Field(default=None, description="stored at or after this (a call's created_at)")
    ingested_to: Moment | None = Field(default=None, description="stored before this (exclusive)")
    # A queue or language no call can be stored with is refused, naming the filter, rather than answered with
    # an empty page that reads as "no such calls".
    queue: QueueName | None = None
    agent_ref: AgentName | None = None
    customer_ref: str | None = None
    status: RecordingStatus | None = Field(default=None, description="stored, transcribing, transcribed, ...")
    language: Language | None = None
    direction: Literal["inbound", "outbound"] | None = None

    @field_validator("started_to", "ingested_to")
    @classmethod
    def _after_start(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        return period_end(value, info, "started_from" if info.field_name == "started_to" else "ingested_from")


def period_end(value: datetime | None, info: ValidationInfo, start_field: str) -> datetime | None:
    """A period's (exclusive) end, checked against its start `start_field`: a period ending before (or as) it begins
    holds nothing, so it is refused (`out_of_range`, naming the end), not answered with an empty page."""
    begins = info.data.get(start_field)
    if value is not None and begins is not None and value <= begins:
        raise PydanticCustomError("out_of_range", "must be later than {start_field}", {"start_field": start_field})
    return value


# Times in JSON as Python writes them (+00:00), the form the API has always used; documented as date-times.
IsoDatetime = Annotated[
    datetime,
    PlainSerializer(datetime.isoformat, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]
# An id (a ULID, 26 characters) as input: an empty or overlong one is refused naming its field, before any lookup.
EntityId = Annotated[str, Field(min_length=1, max_length=26)]


class RecordingOut(BaseModel):
    """A recording's metadata as the API and the evidence package show it (no key material)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    source: str
    external_call_id: str | None = Field(description="the telephony system's; null without customer.read")
    started_at: IsoDatetime
    duration_s: float
    direction: str
    queue: str
    agent_ref: str
    customer_ref: str | None
    language: str
    channels: int
    agent_channel: str | None
    container: str
    codec: str
    sample_rate: int
    size_bytes: int
    sha256: str
    notice_given: bool
    agreement_made: bool | None
    status: str
    purposes: list[str]
    retain_until: IsoDatetime | None
    legal_hold: bool
    restricted: bool
    card_data: bool = Field(description="card data was said on the call (PCI DSS)")
    pci_redacted_at: IsoDatetime | None = Field(description="when the stored original had its card data muted")
    created_at: IsoDatetime = Field(description="when the call was stored (ingested): what ingested_from compares")


@dataclass(frozen=True)
class RecordingPage:
    items: list[Recording]
    next_cursor: str | None


def visible_to(actor: Actor) -> ColumnElement[bool]:
    """The recordings `actor` may see: restricted ones (GDPR Art. 18) and those an erasure kept for a legal duty
    (Art. 17(3): a hold, evidence of an agreement, which compliance answers for) are for compliance only; an agent
    sees only their own calls that an evaluation released to them is about: the calls of their agent in any letter case
    and Unicode form (`agent_key`), as a plan assigns them and search finds them."""
    if actor.role == Role.COMPLIANCE:
        return true()
    if actor.role == Role.AGENT:
        # An evaluation names its call's agent as the call does (copied from it): the call's key is the evaluation's.
        # The agent's calls in the subquery too, so that it reads their evaluations, not every released one.
        own_key, theirs = own_agent_key(actor), aliased(Recording)
        released = (
            select(Evaluation.recording_id)
            .join(theirs, theirs.id == Evaluation.recording_id)
            .where(theirs.agent_key == own_key, Evaluation.released_at.is_not(None))
        )
        return and_(in_everyday_use(), Recording.agent_key == own_key, Recording.id.in_(released))
    return in_everyday_use()


def own_agent_key(actor: Actor) -> ScalarSelect[str | None]:
    """The key of the agent the agent account `actor` is (`User.agent_key`), for a query's comparison."""
    return select(User.agent_key).where(User.id == actor.id).scalar_subquery()


def in_everyday_use() -> ColumnElement[bool]:
    """Calls anyone but compliance may use: not restricted (Art. 18), not kept by an erasure for a legal duty only."""
    return and_(Recording.restricted.is_(False), Recording.erasure_kept.is_(False))


def visible_calls(
    session: Session, *, actor: Actor, recording_ids: Sequence[str], refused_action: str
) -> list[Recording]:
    """The chosen calls, in the order given, none deleted and all visible to `actor`: else `Invalid`, or `NotFound`
    with a `refused_action` refusal naming the first hidden call when some exist but are hidden."""
    wanted = list(dict.fromkeys(recording_ids))
    if not wanted:
        raise Invalid("recording_ids", "select at least one call", code="missing")
    if len(wanted) > MAX_CHOSEN:
        raise Invalid("recording_ids", f"at most {MAX_CHOSEN} calls at a time", code="too_many")
    found = {
        recording.id: recording
        for recording in session.scalars(
            select(Recording).where(
                Recording.id.in_(wanted), visible_to(actor), Recording.status != RecordingStatus.DELETED
            )
        )
    }
    missing = [recording_id for recording_id in wanted if recording_id not in found]
    if missing:
        hidden = list(session.scalars(select(Recording.id).where(Recording.id.in_(missing), ~visible_to(actor))))
        details = {"reason": "not_visible", "count": len(hidden)}
        refusal = Refusal(actor, refused_action, "recording", hidden[0], details) if hidden else None
        raise NotFound(f"recording {missing[0]} not found", refusal=refusal)
    return [found[recording_id] for recording_id in wanted]


def list_recordings(
    session: Session, *, actor: Actor, filters: RecordingFilters, cursor: str | None = None, limit: int = 50
) -> RecordingPage:
    """Newest first; the cursor names the last row seen, so pages stay stable while calls arrive. What remains of
    an erased call (queue, agent, times) is listed to compliance only, who answer for the deletion."""
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid("limit", f"must be between 1 and {MAX_PAGE}", code="out_of_range")
    query = apply_filters(select(Recording).where(visible_to(actor)), filters)
    if actor.role != Role.COMPLIANCE:
        query = query.where(Recording.status != RecordingStatus.DELETED)
    if cursor:
        query = query.where(after_cursor(cursor))
    rows = list(session.scalars(query.order_by(*NEWEST_FIRST).limit(limit + 1)))
    more = len(rows) > limit
    items = rows[:limit]
    return RecordingPage(items=items, next_cursor=encode_cursor(items[-1]) if more else None)


def browse_recordings(
    session: Session, *, actor: Actor, filters: RecordingFilters, cursor: str | None = None, limit: int = 50
) -> RecordingPage:
    """A page of `list_recordings` for a person or client, audited as `recording.listed`: each row names its
    customer and agent. Like a search, the event keeps counts and which filters were used, not their values (a
    customer ref is itself personal data)."""
    page = list_recordings(session, actor=actor, filters=filters, cursor=cursor, limit=limit)
    record_page_read(
        session, actor=actor, action="recording.listed", filters=filters, results=len(page.items), cursor=cursor
    )
    return page


def record_page_read(
    session: Session,
    *,
    actor: Actor,
    action: str,
    filters: BaseModel,
    results: int,
    cursor: str | None,
    object_type: str = "recording",
) -> None:
    """Audit a page of a list of calls (or of their deletions, or their evaluations): counts and which filters were
    used, never their values (a customer ref is itself personal data) or the rows' ids."""
    used = sorted(name for name, value in filters.model_dump().items() if value is not None)
    details = {"results": results, "next_page": cursor is not None, "filters": used}
    record_event(session, actor=actor, action=action, object_type=object_type, details=details)


def apply_filters(query: Select[Recording], filters: RecordingFilters) -> Select[Recording]:
    if filters.started_from is not None:
        query = query.where(Recording.started_at >= filters.started_from)
    if filters.started_to is not None:
        query = query.where(Recording.started_at < filters.started_to)
    if filters.ingested_from is not None:
        query = query.where(Recording.created_at >= filters.ingested_from)
    if filters.ingested_to is not None:
        query = query.where(Recording.created_at < filters.ingested_to)
    # Queue and agent are matched regardless of case, so a typed "billing" finds the "Billing" queue and "sähkö"
    # the "SÄHKÖ" one, typed composed or not: by their keys, made in Python as the calls' were (`name_key`).
    if filters.queue is not None:
        query = query.where(Recording.queue_key == name_key(filters.queue))
    if filters.agent_ref is not None:
        query = query.where(Recording.agent_key == name_key(filters.agent_ref))
    if filters.status is not None:
        query = query.where(Recording.status == filters.status)
    if filters.language is not None:
        query = query.where(Recording.language == filters.language)
    if filters.direction is not None:
        query = query.where(Recording.direction == filters.direction)
    if filters.customer_ref is not None:
        query = query.join(Customer, Recording.customer_id == Customer.id).where(
            Customer.customer_ref == customer_reference(filters.customer_ref)
        )
    return query


def calls_matching(
    query: _Query,
    *,
    from_day: date | None,
    to_day: date | None,
    timezone: str,
    queues: Sequence[str] | None = None,
    languages: Sequence[str] | None = None,
    directions: Sequence[str] | None = None,
    min_duration_s: float | None = None,
    max_duration_s: float | None = None,
) -> _Query:
    """The selection criteria research batches and training samples share: call dates (days of `timezone`'s
    calendar, both inclusive), any of these queues (in any letter case and Unicode form), languages or directions,
    and a duration range."""
    begins = day_start(from_day, timezone) if from_day is not None else None
    # The last day there is bounds nothing (and has no day after it).
    ends = day_start(to_day + timedelta(days=1), timezone) if to_day is not None and to_day < date.max else None
    if begins is not None:
        query = query.where(Recording.started_at >= begins)
    if ends is not None:
        query = query.where(Recording.started_at < ends)
    if queues:
        # By their keys, as the call list's filter (`apply_filters`): a batch or sample for "sähkö", typed in any case
        # or Unicode form, selects the "SÄHKÖ" calls the list shows for it (the queue key's index serves it).
        query = query.where(Recording.queue_key.in_(sorted({name_key(queue) for queue in queues})))
    if languages:
        query = query.where(Recording.language.in_(languages))
    if directions:
        query = query.where(Recording.direction.in_(directions))
    if min_duration_s is not None:
        query = query.where(Recording.duration_s >= min_duration_s)
    if max_duration_s is not None:
        query = query.where(Recording.duration_s <= max_duration_s)
    return query


def after_cursor(cursor: str) -> ColumnElement[bool]:
    """Rows after the one the cursor names, in NEWEST_FIRST order."""
    started_at, last_id = decode_cursor(cursor)
    return or_(
        Recording.started_at < started_at,
        and_(Recording.started_at == started_at, Recording.id < last_id),
    )


def encode_cursor(recording: Recording) -> str:
    return key_cursor(recording.started_at.isoformat(), recording.id)


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    (started_at,), last_id = cursor_key(cursor, 2)
    return cursor_moment(started_at), last_id


def get_playable_recording(session: Session, *, actor: Actor, recording_id: str, audio: bool = True) -> Recording:
    """The recording if `actor` may see it and, with `audio`, its audio and transcript can be served.

    Every single-recording read loads through here. A recording hidden from the actor is reported as
    not found, and the error carries the refusal's audit event.
    """
    recording = session.scalars(select(Recording).where(Recording.id == recording_id, visible_to(actor))).first()
    if recording is None:
        hidden = session.get(Recording, recording_id) is not None
        refusal = Refusal(actor, "recording.access_denied", "recording", recording_id, {"reason": "not_visible"})
        raise NotFound(f"recording {recording_id} not found", refusal=refusal if hidden else None)
    if audio and recording.status in UNPLAYABLE:
        raise NotFound(f"the audio of recording {recording_id} is not available ({recording.status})")
    return recording


def get_live_recording(session: Session, *, actor: Actor, recording_id: str, audio: bool = False) -> Recording:
    """The recording if `actor` may see it and it is not deleted: what anything written about a call (a score, a
    comment, a nomination, a clip) loads. Deletion blanked what was written about the call; nothing new is written
    after it. With `audio`, its audio must be servable too."""
    recording = get_playable_recording(session, actor=actor, recording_id=recording_id, audio=audio)
    if not still_live(session, recording):
        raise NotFound(f"recording {recording_id} not found")
    return recording


def still_live(session: Session, recording: Recording) -> bool:
    """Whether the recording is not deleted, read under a share lock kept to the end of the transaction.

    Deletion locks the row for update before it blanks what was written about the call, so a write about the call
    either commits before the deletion reads (which then blanks or deletes it) or waits for the deletion and finds
    the call deleted; read without the lock, a comment checked before the deletion committed was inserted after it
    (PostgreSQL; SQLite has one writer at a time). Take it before locking other rows the deletion also writes."""
    status = session.scalar(select(Recording.status).where(Recording.id == recording.id).with_for_update(read=True))
    return status not in (None, RecordingStatus.DELETED)


def require_still_visible(session: Session, recording: Recording, *, actor: Actor) -> None:
    """After a long read for `actor` (an evidence package decrypts the whole original): the recording is not deleted
    (`still_live`'s share lock taken) and still visible to them, else not found (the refusal audited)."""
    if not still_live(session, recording):
        raise NotFound(f"recording {recording.id} not found")
    if session.scalar(select(Recording.id).where(Recording.id == recording.id, visible_to(actor))) is None:
        refusal = Refusal(actor, "recording.access_denied", "recording", recording.id, {"reason": "not_visible"})
        raise NotFound(f"recording {recording.id} not found", refusal=refusal)


def read_recording(session: Session, *, actor: Actor, recording_id: str) -> Recording:
    """A recording's metadata for `actor`, audited as `recording.metadata_read` (it names the customer and agent).
    What remains of an erased call is read by compliance only, as it is listed to them only."""
    recording = get_playable_recording(session, actor=actor, recording_id=recording_id, audio=False)
    if recording.status == RecordingStatus.DELETED and actor.role != Role.COMPLIANCE:
        raise NotFound(f"recording {recording_id} not found")
    record_event(
        session, actor=actor, action="recording.metadata_read", object_type="recording", object_id=recording.id
    )
    return recording


def media_type(recording: Recording) -> str:
    return format_of(recording.container).media_type
