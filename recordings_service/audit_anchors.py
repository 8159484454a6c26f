"""Anchors of the audit chain: its head, kept in the object store under `audit-anchors/` (in compliance-mode
Object Lock where the bucket has it), so that deleting the newest events, even with the chain head row fixed
up to match, shows at the next `callvault audit verify`."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from ulid import ULID

from recordings_service.audit import ChainBreak
from recordings_service.errors import NotFound
from recordings_service.models import AuditEvent
from recordings_service.storage.object_store import ObjectStore

ANCHOR_PREFIX = "audit-anchors/"


@dataclass(frozen=True)
class Anchor:
    """The chain head at one moment, kept in the store: the event, its hash and the events up to it."""

    key: str
    event_id: str
    hash: str
    count: int
    at: datetime


def anchor_key(event: AuditEvent) -> str:
    return f"{ANCHOR_PREFIX}{event.occurred_at:%Y/%m}/{event.id}.json"


def anchor_head(session: Session, store: ObjectStore, *, retention_days: int, now: datetime) -> Anchor | None:
    """Put the chain head in the store, retained in compliance mode where the bucket has Object Lock.

    None when the trail is empty or its head is anchored already. Call it after the commit that wrote the
    head: an anchor naming an event that was rolled back would read as a truncated trail.
    """
    head = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).first()
    if head is None:
        return None
    anchor = Anchor(key=anchor_key(head), event_id=head.id, hash=head.hash, count=head.seq, at=now)
    try:
        store.head(anchor.key)
    except NotFound:
        pass
    else:
        return None  # the head has not moved since it was last anchored
    body = json.dumps(
        {
            "event_id": anchor.event_id,
            "hash": anchor.hash,
            "count": anchor.count,
            "at": anchor.at.isoformat(timespec="microseconds"),
        },
        sort_keys=True,
    ).encode()
    _keep(store, anchor.key, body, retain_until=now + timedelta(days=retention_days), now=now)
    return anchor


def restore_anchor(store: ObjectStore, key: str, body: bytes, *, retention_days: int, now: datetime) -> None:
    """Put a backed-up anchor back, retained as when it was made (its `at` plus the retention) where the bucket
    has Object Lock: put as any object, a restored store's anchors could be deleted, and the trail cut to match."""
    made = datetime.fromisoformat(json.loads(body)["at"])
    _keep(store, key, body, retain_until=made + timedelta(days=retention_days), now=now)


def _keep(store: ObjectStore, key: str, body: bytes, *, retain_until: datetime, now: datetime) -> None:
    if retain_until > now and store.object_lock() == "enabled":
        store.put_locked(key, body, retain_until=retain_until)
    else:
        store.put(key, io.BytesIO(body))


def check_anchors(session: Session, store: ObjectStore, *, batch_size: int = 500) -> ChainBreak | None:
    """The newest anchored event that is missing from the trail or differs from its anchor, if any.

    Every anchor's event must still exist (a truncation with the chain head row fixed up leaves a consistent
    chain, and later events may even reuse the freed sequence numbers); the newest anchor's hash must match,
    which through the chain vouches for every event before it.

    A restore (`backup.restored`, a signed event of this trail) replaced the events made between the backup and
    itself: their anchors, which the store keeps (in Object Lock for years), are of a trail this database no longer
    holds, and are left out, where they made every later verify fail for good.
    """
    anchored = sorted((_anchored_event_id(info.key), info.key) for info in store.list(ANCHOR_PREFIX))
    anchored = _without_replaced(session, anchored)
    if not anchored:
        return None
    for start in reversed(range(0, len(anchored), batch_size)):
        batch = anchored[start : start + batch_size]
        present = set(session.scalars(select(AuditEvent.id).where(AuditEvent.id.in_([id_ for id_, _ in batch]))))
        missing = [key for id_, key in batch if id_ not in present]
        if missing:
            anchor = _read_anchor(store, missing[-1])
            return ChainBreak(anchor.count, anchor.event_id, f"anchored event {anchor.event_id} is missing")
    newest = _read_anchor(store, anchored[-1][1])
    event = session.get(AuditEvent, newest.event_id)
    if event is None or event.seq != newest.count or event.hash != newest.hash:
        return ChainBreak(newest.count, newest.event_id, f"anchored event {newest.event_id} was changed")
    return None


def anchor_protection(store: ObjectStore) -> str:
    """How anchors are kept, as readiness and the jobs process report it."""
    lock = store.object_lock()
    if lock == "enabled":
        return "object-lock compliance"
    if lock == "not enabled":
        return "no object lock (not enabled on the bucket)"
    return "no object lock (store does not support it)"


def _without_replaced(session: Session, anchored: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """`anchored` less the anchors of events a restore replaced: made after a restored backup was taken and before
    the restore, and missing from this trail."""
    windows = []
    for event in session.scalars(select(AuditEvent).where(AuditEvent.action == "backup.restored")):
        try:
            taken = datetime.fromisoformat(str(event.details.get("backup_created_at")))
        except ValueError:
            continue
        # To the millisecond, as event ids tell their time: an event of the same millisecond may follow the backup.
        taken = taken.replace(microsecond=taken.microsecond // 1000 * 1000, tzinfo=taken.tzinfo or UTC)
        windows.append((taken, event.occurred_at))
    in_windows = [id_ for id_, _ in anchored if any(start <= _made_at(id_) < end for start, end in windows)]
    if not in_windows:
        return anchored
    present = set(session.scalars(select(AuditEvent.id).where(AuditEvent.id.in_(in_windows))))
    replaced = set(in_windows) - present
    return [(id_, key) for id_, key in anchored if id_ not in replaced]


def _made_at(event_id: str) -> datetime:
    """When an event was made, by its id (a ULID); the epoch for a key that names no ULID."""
    try:
        return ULID.from_str(event_id).datetime
    except ValueError:
        return datetime.fromtimestamp(0, UTC)


def _anchored_event_id(key: str) -> str:
    return key.rsplit("/", 1)[-1].removesuffix(".json")


def _read_anchor(store: ObjectStore, key: str) -> Anchor:
    fields = json.load(store.get(key))
    return Anchor(
        key=key,
        event_id=fields["event_id"],
        hash=fields["hash"],
        count=fields["count"],
        at=datetime.fromisoformat(fields["at"]),
    )
