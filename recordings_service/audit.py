"""Use cases of the audit trail: append an event to the hash chain, verify the chain (searching it is
`audit_search`).

Each event's hash is an HMAC-SHA256 under `CALLVAULT_AUDIT_KEY` (never stored in the database) over its
content and the previous event's hash, so someone who can rewrite the table cannot recompute the chain.
Deleting the newest events and fixing the chain head row still leaves a consistent chain: `audit_anchors`
keeps the head in the object store to catch that.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from recordings_service.config import PREFIX, Settings, SettingsError
from recordings_service.db import new_id, upsert_insert, utcnow
from recordings_service.errors import ID_SHAPE, Refusal
from recordings_service.models import AuditChainHead, AuditEvent, AuditEventRecording, AuditSigningKey

GENESIS_HASH = "0" * 64
# Where a session carries the audit keys (set by `Runtime`), so that every `record_event` signs without
# each caller passing them.
SESSION_AUDIT_KEYS = "audit_keys"
MIN_KEY_CHARS = 32
# Details are for ids and counts; anything else (text, names) must not reach the trail.
_ALLOWED_DETAIL_TYPES = (str, int, float, bool, type(None))
# The detail (comma-separated ids) in which an action names recordings besides its object, whose trails list it too:
# `AuditEventRecording` rows derived from that detail alone, as migration 0032 derives them for older events.
RECORDINGS_NAMED_IN = {
    "recording.searched": "snippet_recordings",
    "customer.custody_read": "recordings",
    "subject_request.corrections_viewed": "recordings",
    # What changed every call of a customer: restricted or released, held or let go (a hold on one call names it
    # in `recording_id`: `audit_search.RECORDING_DETAIL_OF`). A call's trail and its evidence package left them out.
    "subject_request.restricted": "recording_ids",
    "subject_request.lifted": "recording_ids",
    "legal_hold.placed": "covered_recordings",
    "legal_hold.released": "covered_recordings",
}


@dataclass(frozen=True)
class AuditKeys:
    """The chain's HMAC keys by key id: the current one signs new events, retired ones still verify theirs."""

    current_id: str
    secrets: Mapping[str, bytes]

    @classmethod
    def from_settings(cls, settings: Settings) -> AuditKeys | None:
        """None when no key is set: events are then chained with plain SHA-256, and `audit verify` refuses."""
        if not settings.audit_key:
            return None
        retired = [key.strip() for key in settings.audit_keys_old.split(",") if key.strip()]
        for key in (settings.audit_key, *retired):
            if len(key) < MIN_KEY_CHARS:
                raise SettingsError(
                    f"{PREFIX}AUDIT_KEY and each key in {PREFIX}AUDIT_KEYS_OLD need at least {MIN_KEY_CHARS} characters"
                )
        return cls(
            current_id=key_id(settings.audit_key),
            secrets={key_id(key): key.encode() for key in (*retired, settings.audit_key)},
        )


def key_id(key: str) -> str:
    """A key's public name, derived from it: events name their key without an id setting to keep in step."""
    return hmac.new(key.encode(), b"callvault audit key id", hashlib.sha256).hexdigest()[:12]


def session_keys(session: Session) -> AuditKeys | None:
    keys = session.info.get(SESSION_AUDIT_KEYS)
    return keys if isinstance(keys, AuditKeys) else None


# The names the trail gives those who act without an account (the jobs, the CLI, an unproved caller). An account
# of one of them would read in the trail as that job or the operator's CLI, and an actor filter would mix the two.
SYSTEM_ACTOR_NAMES = frozenset(
    {"anonymous", "cli", "evaluation-plans", "inbox", "integrity", "reconcile", "research-build", "research-custody"}
    | {"retention", "subject-access", "system", "transcription"}
)


@dataclass(frozen=True)
class Actor:
    """Who acts: a user, a service account, or the system itself (a job)."""

    id: str | None
    name: str
    role: str
    ip: str | None = None

    @classmethod
    def anonymous(cls, ip: str | None) -> Actor:
        """Whoever has proved nobody yet (a failed sign-in, a refused token, no session): only their address."""
        return cls(id=None, name="anonymous", role="anonymous", ip=ip)


def record_event(
    session: Session,
    *,
    actor: Actor,
    action: str,
    object_type: str | None = None,
    object_id: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction, signed with the session's audit key."""
    return record_events(session, actor=actor, action=action, object_type=object_type, items=[(object_id, details)])[0]


def record_events(
    session: Session,
    *,
    actor: Actor,
    action: str,
    object_type: str | None,
    items: Sequence[tuple[str | None, Mapping[str, Any] | None]],
) -> list[AuditEvent]:
    """Append one event per (object id, details) item, in this order, with one round trip to the chain head.

    The head's `seq` moves by the number of events at once (which also locks the head row until commit,
    as for one event), each event chains to the one before it, and the head keeps the last one's hash.
    """
    if not items:
        return []
    checked = [(object_id, _checked_details(details or {})) for object_id, details in items]
    keys = session_keys(session)
    signing = keys.current_id if keys else None
    last_seq, prev_hash, last_signed_by = session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == 1)
        .values(seq=AuditChainHead.seq + len(checked))
        .returning(AuditChainHead.seq, AuditChainHead.last_hash, AuditChainHead.key_id)
    ).one()
    if signing is not None and signing != last_signed_by:  # a rotation's first event (or one back to an older key)
        session.execute(upsert_insert(session)(AuditSigningKey).values(key_id=signing).on_conflict_do_nothing())
    events: list[AuditEvent] = []
    for seq, (object_id, clean_details) in enumerate(checked, start=last_seq - len(checked) + 1):
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
            key_id=signing,
        )
        event.hash = prev_hash = event_hash(event, keys)
        events.append(event)
    session.add_all(events)
    session.add_all(
        AuditEventRecording(event_id=event.id, recording_id=recording_id)
        for event in events
        for recording_id in named_recordings(action, event.details)
    )
    session.execute(update(AuditChainHead).where(AuditChainHead.id == 1).values(last_hash=prev_hash, key_id=signing))
    session.flush()
    return events


def named_recordings(action: str, details: Mapping[str, Any]) -> list[str]:
    """The recordings an event's details name besides its object (`RECORDINGS_NAMED_IN`), each once, in order."""
    named_in = RECORDINGS_NAMED_IN.get(action)
    return list(dict.fromkeys(filter(None, str(details.get(named_in) or "").split(",")))) if named_in else []


def record_refusal(session: Session, refusal: Refusal) -> AuditEvent:
    """Append the event a refused request leaves (see `errors.Refusal`); an object id not of `ID_SHAPE` is withheld."""
    object_id, details = refusal.object_id, dict(refusal.details)
    if object_id is not None and not ID_SHAPE.fullmatch(object_id):
        object_id, details["withheld"] = None, "object_id"
    return record_event(
        session,
        actor=refusal.actor,
        action=refusal.action,
        object_type=refusal.object_type,
        object_id=object_id,
        details=details,
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
    """An event as exports carry it: its content and its place in the chain, and the key its hash is an HMAC
    under (None: plain SHA-256, which a reader can re-check; a signed hash needs that key)."""
    return {**event_content(event), "prev_hash": event.prev_hash, "hash": event.hash, "key_id": event.key_id}


def event_hash(event: AuditEvent, keys: AuditKeys | None) -> str:
    """HMAC-SHA256, under the key the event names, of the previous event's hash and the event's canonical JSON;
    plain SHA-256 of the same for an event that names no key. Raises `UnknownKey` when `keys` lack its key."""
    canonical = json.dumps(event_content(event), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    message = (event.prev_hash + canonical).encode()
    if event.key_id is None:
        return hashlib.sha256(message).hexdigest()
    secret = keys.secrets.get(event.key_id) if keys else None
    if secret is None:
        raise UnknownKey(event.key_id)
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


class UnknownKey(Exception):
    """An event names an audit key that is neither the current one nor among the retired ones."""


@dataclass(frozen=True)
class ChainBreak:
    seq: int | None  # None: a link naming an event that is not in the trail at all
    event_id: str | None
    reason: str
    unknown_key: bool = False  # the event is signed with a key the checking process does not hold


def verify_chain(session: Session, *, keys: AuditKeys | None, batch_size: int = 1000) -> tuple[int, ChainBreak | None]:
    """Walk the whole chain in order; return how many events were checked and the first break, if any.

    Unsigned (plain SHA-256) events are accepted only before the first signed one: they are the trail from
    before migration 0018, and anyone can compute such a hash.
    """
    expected_prev = GENESIS_HASH
    checked = 0
    first_signed: int | None = None
    while True:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.seq > checked).order_by(AuditEvent.seq).limit(batch_size)
        ).all()
        if not events:
            break
        for event in events:
            broken = _event_break(event, keys=keys, seq=checked + 1, prev_hash=expected_prev, first_signed=first_signed)
            if broken is not None:
                return checked, broken
            if event.key_id is not None and first_signed is None:
                first_signed = event.seq
            expected_prev = event.hash
            checked += 1
        session.expunge_all()
    head = session.get(AuditChainHead, 1)
    if head is not None and (head.seq != checked or head.last_hash != expected_prev):
        return checked, ChainBreak(
            checked + 1, None, f"chain head names event {head.seq}; events after {checked} are missing"
        )
    return checked, None


def verify_links(session: Session, *, batch_size: int = 1000) -> ChainBreak | None:
    """The first event whose links in `audit_event_recordings` differ from the recordings its signed details name, or
    a link naming no event at all.

    The links are derived from those details and not signed themselves, and on SQLite no trigger keeps them
    append-only: a deleted link took a search out of a call's trail, an added one put an event into another's, and
    the chain still verified. The break names the event and counts, never a recording."""
    orphan = session.scalar(
        select(AuditEventRecording.event_id)
        .where(~select(AuditEvent.id).where(AuditEvent.id == AuditEventRecording.event_id).exists())
        .limit(1)
    )
    if orphan is not None:
        return ChainBreak(None, orphan, f"a link to a recording names event {orphan}, which is not in the trail")
    naming = list(RECORDINGS_NAMED_IN)
    breaks = []
    stray = session.execute(
        select(AuditEvent.seq, AuditEvent.id)
        .join(AuditEventRecording, AuditEventRecording.event_id == AuditEvent.id)
        .where(AuditEvent.action.not_in(naming))
        .order_by(AuditEvent.seq)
        .limit(1)
    ).first()
    if stray is not None:
        reason = f"event {stray.id} is linked to a recording, but its action names none in its signed details"
        breaks.append(ChainBreak(stray.seq, stray.id, reason))
    if (mismatch := _first_link_mismatch(session, actions=naming, batch_size=batch_size)) is not None:
        breaks.append(mismatch)
    return min(breaks, key=lambda found: found.seq or 0, default=None)


def _first_link_mismatch(session: Session, *, actions: list[str], batch_size: int) -> ChainBreak | None:
    """Walk the trail in chain order, comparing each event of `actions` with its links.

    A batch is a window of `batch_size` event numbers, a range of the `seq` index: batches of the next events of
    `actions` were read through the action index, every event of those actions sorted again for each batch."""
    newest = session.scalar(select(func.max(AuditEvent.seq))) or 0
    for start in range(1, newest + 1, batch_size):
        window = AuditEvent.seq.between(start, start + batch_size - 1)
        rows = session.execute(
            select(AuditEvent.seq, AuditEvent.id, AuditEvent.action, AuditEvent.details)
            .where(window, AuditEvent.action.in_(actions))
            .order_by(AuditEvent.seq)
        ).all()
        linked: dict[str, set[str]] = {row.id: set() for row in rows}
        for event_id, recording_id in session.execute(
            select(AuditEventRecording.event_id, AuditEventRecording.recording_id)
            .join(AuditEvent, AuditEvent.id == AuditEventRecording.event_id)
            .where(window, AuditEvent.action.in_(actions))
        ):
            linked[event_id].add(recording_id)
        for seq, event_id, action, details in rows:
            named = set(named_recordings(action, details if isinstance(details, dict) else {}))
            if linked[event_id] != named:
                counts = f"{len(linked[event_id] - named)} not named there, {len(named - linked[event_id])} missing"
                reason = f"the links of event {event_id} to recordings differ from its signed details ({counts})"
                return ChainBreak(seq, event_id, reason)
    return None


def _event_break(
    event: AuditEvent, *, keys: AuditKeys | None, seq: int, prev_hash: str, first_signed: int | None
) -> ChainBreak | None:
    """Why `event` cannot be the chain's event number `seq`, following an event whose hash is `prev_hash`."""
    if event.seq != seq:
        return ChainBreak(seq, None, f"event {seq} is missing")
    if event.prev_hash != prev_hash:
        return ChainBreak(event.seq, event.id, "prev_hash does not match the previous event")
    if event.key_id is None and first_signed is not None:
        return ChainBreak(event.seq, event.id, f"unsigned (plain SHA-256) event after signed event {first_signed}")
    try:
        expected = event_hash(event, keys)
    except UnknownKey:
        reason = f"signed with audit key {event.key_id}, which is not configured (CALLVAULT_AUDIT_KEYS_OLD?)"
        return ChainBreak(event.seq, event.id, reason, unknown_key=True)
    if not hmac.compare_digest(expected, event.hash):
        return ChainBreak(event.seq, event.id, "content does not match its hash")
    return None


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def _checked_details(details: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in details.items():
        if not isinstance(value, _ALLOWED_DETAIL_TYPES) and not (
            isinstance(value, list) and all(isinstance(item, _ALLOWED_DETAIL_TYPES) for item in value)
        ):
            raise TypeError(f"audit detail {key!r} must be an id, a count or a flag")
    return dict(details)
