"""Use cases of the audit trail: append an event to the hash chain, verify the chain, search it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session

from recordings_service.db import new_id, utcnow
from recordings_service.errors import Refusal
from recordings_service.models import AuditChainHead, AuditEvent

GENESIS_HASH = "0" * 64
_Q = TypeVar("_Q", bound=Select[Any])
# Details are for ids and counts; anything else (text, names) must not reach the trail.
_ALLOWED_DETAIL_TYPES = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class Actor:
    """Who acts: a user, a service account, or the system itself (a job)."""

    id: str | None
    name: str
    role: str
    ip: str | None = None


def record_event(
    session: Session,
    *,
    actor: Actor,
    action: str,
    object_type: str | None = None,
    object_id: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction."""
    clean_details = _checked_details(details or {})
    seq, prev_hash = session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == 1)
        .values(seq=AuditChainHead.seq + 1)
        .returning(AuditChainHead.seq, AuditChainHead.last_hash)
    ).one()
    event = AuditEvent(
        id=new_id(),
        seq=seq,
        occurred_at=utcnow(),
        actor_id=actor.id,
        actor_name=actor.name,
        role=actor.role,
        action=action,
        object_type=object_type,
        object_id=object_id,
        ip=actor.ip,
        details=clean_details,
        prev_hash=prev_hash,
    )
    event.hash = event_hash(event)
    session.add(event)
    session.execute(update(AuditChainHead).where(AuditChainHead.id == 1).values(last_hash=event.hash))
    session.flush()
    return event


def record_refusal(session: Session, refusal: Refusal) -> AuditEvent:
    """Append the event a refused request leaves (see `errors.Refusal`)."""
    return record_event(
        session,
        actor=refusal.actor,
        action=refusal.action,
        object_type=refusal.object_type,
        object_id=refusal.object_id,
        details=refusal.details,
    )


def event_content(event: AuditEvent) -> dict[str, Any]:
    """What an event says: the fields its hash covers."""
    return {
        "seq": event.seq,
        "id": event.id,
        "occurred_at": _iso(event.occurred_at),
        "actor_id": event.actor_id,
        "actor_name": event.actor_name,
        "role": event.role,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "ip": event.ip,
        "details": event.details,
    }


def event_record(event: AuditEvent) -> dict[str, Any]:
    """An event as exports carry it: its content and its place in the chain, so a reader can re-check it."""
    return {**event_content(event), "prev_hash": event.prev_hash, "hash": event.hash}


def event_hash(event: AuditEvent) -> str:
    """SHA-256 over the event's canonical JSON and the previous event's hash."""
    canonical = json.dumps(event_content(event), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256((event.prev_hash + canonical).encode()).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    event_id: str | None
    reason: str


def verify_chain(session: Session, *, batch_size: int = 1000) -> tuple[int, ChainBreak | None]:
    """Walk the whole chain in order; return how many events were checked and the first break, if any."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    last_seq = 0
    while True:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.seq > last_seq).order_by(AuditEvent.seq).limit(batch_size)
        ).all()
        if not events:
            break
        for event in events:
            if event.seq != expected_seq:
                return checked, ChainBreak(expected_seq, None, f"event {expected_seq} is missing")
            if event.prev_hash != expected_prev:
                return checked, ChainBreak(event.seq, event.id, "prev_hash does not match the previous event")
            if event_hash(event) != event.hash:
                return checked, ChainBreak(event.seq, event.id, "content does not match its hash")
            expected_prev = event.hash
            expected_seq += 1
            checked += 1
            last_seq = event.seq
        session.expunge_all()
    head = session.get(AuditChainHead, 1)
    if head is not None and (head.seq != checked or head.last_hash != expected_prev):
        return checked, ChainBreak(
            checked + 1, None, f"chain head names event {head.seq}; events after {checked} are missing"
        )
    return checked, None


@dataclass(frozen=True)
class EventFilter:
    """What a compliance officer narrows the trail to; every field is optional and they combine with AND."""

    actor: str | None = None  # an actor id or a username
    action: str | None = None  # exact, or a prefix ending in "*" ("login.*")
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None  # exclusive

    def as_details(self) -> dict[str, str | None]:
        """The filter as audit details (an export records what was exported)."""
        return {key: value.isoformat() if isinstance(value, datetime) else value for key, value in asdict(self).items()}


def find_events(
    session: Session, *, filters: EventFilter, before_seq: int | None = None, limit: int = 50
) -> list[AuditEvent]:
    """One page of matching events, newest first; pass the last page's smallest seq as `before_seq` for the next."""
    query = _filtered(select(AuditEvent), filters)
    if before_seq is not None:
        query = query.where(AuditEvent.seq < before_seq)
    return list(session.scalars(query.order_by(AuditEvent.seq.desc()).limit(limit)))


def count_events(session: Session, *, filters: EventFilter) -> int:
    return session.scalar(_filtered(select(func.count()).select_from(AuditEvent), filters)) or 0


def iter_events(session: Session, *, filters: EventFilter, batch_size: int = 500) -> Iterator[AuditEvent]:
    """Every matching event, oldest first, read in batches so an export never holds the whole trail."""
    last_seq = 0
    while True:
        batch = session.scalars(
            _filtered(select(AuditEvent), filters)
            .where(AuditEvent.seq > last_seq)
            .order_by(AuditEvent.seq)
            .limit(batch_size)
        ).all()
        if not batch:
            return
        yield from batch
        last_seq = batch[-1].seq


def _filtered(query: _Q, filters: EventFilter) -> _Q:
    if filters.actor:
        query = query.where(or_(AuditEvent.actor_id == filters.actor, AuditEvent.actor_name == filters.actor))
    if filters.action:
        if filters.action.endswith("*"):
            prefix = filters.action[:-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(AuditEvent.action.like(prefix + "%", escape="\\"))
        else:
            query = query.where(AuditEvent.action == filters.action)
    if filters.object_type:
        query = query.where(AuditEvent.object_type == filters.object_type)
    if filters.object_id:
        query = query.where(AuditEvent.object_id == filters.object_id)
    if filters.since is not None:
        query = query.where(AuditEvent.occurred_at >= filters.since)
    if filters.until is not None:
        query = query.where(AuditEvent.occurred_at < filters.until)
    return query


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def _checked_details(details: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in details.items():
        if not isinstance(value, _ALLOWED_DETAIL_TYPES) and not (
            isinstance(value, list) and all(isinstance(item, _ALLOWED_DETAIL_TYPES) for item in value)
        ):
            raise TypeError(f"audit detail {key!r} must be an id, a count or a flag")
    return dict(details)
