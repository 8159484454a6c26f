"""Reconcile the database with the object store: nothing lost goes unnoticed, nothing orphaned stays.

Ingest uploads before it commits, so a crash in between leaves an object without a row; those are
deleted once they are older than a grace period (an upload in flight is not an orphan yet). A row
whose object has gone is marked `missing_object` and reported; it is never deleted here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.db import utcnow
from recordings_service.errors import NotFound
from recordings_service.models import Recording
from recordings_service.models.recording import RecordingStatus
from recordings_service.storage.object_store import ObjectStore

PREFIX = "originals/"
BATCH = 500
_WITHOUT_OBJECT = {RecordingStatus.DELETED, RecordingStatus.MISSING_OBJECT}


@dataclass(frozen=True)
class ReconcileReport:
    objects_seen: int
    orphans_deleted: int
    orphans_waiting: int
    rows_checked: int
    rows_missing_object: int


def reconcile_storage(
    session: Session, store: ObjectStore, *, actor: Actor, grace_s: float, now: datetime | None = None
) -> ReconcileReport:
    """One pass over `originals/`; flushes status changes and an audit event, the caller commits."""
    started = now or utcnow()
    listed: dict[str, datetime] = {info.key: info.last_modified for info in store.list(PREFIX)}

    orphans_deleted = orphans_waiting = 0
    keys = list(listed)
    for offset in range(0, len(keys), BATCH):
        batch = keys[offset : offset + BATCH]
        known = set(session.scalars(select(Recording.storage_key).where(Recording.storage_key.in_(batch))))
        for key in batch:
            if key in known:
                continue
            if started - listed[key] < timedelta(seconds=grace_s):
                orphans_waiting += 1
            else:
                store.delete(key)
                orphans_deleted += 1

    # Rows created after the listing began may name objects the listing could not show yet.
    missing: list[str] = []
    rows_checked = 0
    last_id = ""
    while True:
        rows = session.execute(
            select(Recording.id, Recording.storage_key)
            .where(
                Recording.id > last_id,
                Recording.status.not_in(_WITHOUT_OBJECT),
                Recording.created_at < started,
            )
            .order_by(Recording.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        rows_checked += len(rows)
        missing.extend(row.id for row in rows if row.storage_key not in listed)
        last_id = rows[-1].id
    missing = [recording_id for recording_id in missing if _gone(session, store, recording_id)]
    for recording_id in missing:
        record_event(
            session, actor=actor, action="recording.object_missing", object_type="recording", object_id=recording_id
        )

    report = ReconcileReport(
        objects_seen=len(listed),
        orphans_deleted=orphans_deleted,
        orphans_waiting=orphans_waiting,
        rows_checked=rows_checked,
        rows_missing_object=len(missing),
    )
    if orphans_deleted or missing:
        record_event(
            session,
            actor=actor,
            action="storage.reconciled",
            details={"orphans_deleted": orphans_deleted, "rows_missing_object": len(missing)},
        )
    session.flush()
    return report


def _gone(session: Session, store: ObjectStore, recording_id: str) -> bool:
    """Whether the row's object is still absent, its row read again under a lock; if so, it is marked missing.

    The listing is minutes old on a large store, and meanwhile a row may have moved to another object (the original
    replaced under the card-data rule: a new key, the old one deleted) or been deleted: such a row was marked
    `missing_object` with its audio in the store, and nothing ever cleared the mark."""
    recording = session.get(Recording, recording_id, with_for_update=True, populate_existing=True)
    if recording is None or recording.status in _WITHOUT_OBJECT:
        return False
    try:
        store.head(recording.storage_key)
        return False
    except NotFound:
        recording.status = RecordingStatus.MISSING_OBJECT
        return True
