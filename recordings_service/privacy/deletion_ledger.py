"""The deletion ledger: every deletion is also written to the object store, so that it outlives a restore.

A database restored from a backup taken before an erasure holds the erased calls again: their rows, transcripts
and wrapped data keys, while the store (which a database restore leaves as it is) no longer holds their audio. So
once a deletion's objects are purged, before its tombstones say so (`deletion.mark_purged`), the deleted
recordings' ids, reasons and times are put under `ledger/deletions/` (ids only: nothing personal), and after a
restore `erasure.replay_deletions` deletes again each one the database holds undeleted (GDPR Art. 17: an erasure
must not be undone by a restore).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.db import new_id
from recordings_service.models import Recording, Tombstone
from recordings_service.models.recording import RecordingStatus
from recordings_service.storage.object_store import ObjectStore

PREFIX = "ledger/deletions/"
# Ids asked of the database at a time (well under SQLite's bound parameters).
LOOKUP_SHARE = 500


def record_deletions(session: Session, store: ObjectStore, recording_ids: Sequence[str]) -> None:
    """Put these deleted recordings (their tombstones' reasons and times) in the ledger, as one new object."""
    if not recording_ids:
        return
    tombstones = session.execute(
        select(Tombstone.recording_id, Tombstone.reason, Tombstone.deleted_at)
        .where(Tombstone.recording_id.in_(recording_ids))
        .order_by(Tombstone.recording_id)
    )
    deleted = [
        {"recording_id": recording_id, "reason": reason, "deleted_at": deleted_at.isoformat()}
        for recording_id, reason, deleted_at in tombstones
    ]
    if deleted:
        # A new id sorts after every earlier entry: the ledger lists in the order it was written.
        body = json.dumps({"deleted": deleted}, separators=(",", ":")).encode()
        store.put(f"{PREFIX}{new_id()}.json", io.BytesIO(body))


def recorded(store: ObjectStore) -> tuple[dict[str, str], int]:
    """Every recording the ledger names, with the reason it was deleted; and how many entries it holds."""
    named: dict[str, str] = {}
    entries = 0
    for info in store.list(PREFIX):
        with store.get(info.key) as body:
            for item in json.load(body)["deleted"]:
                named.setdefault(item["recording_id"], item["reason"])
        entries += 1
    return named, entries


def undeleted(session: Session, recording_ids: list[str]) -> Iterator[str]:
    """Those of `recording_ids` this database holds and has not deleted, in id order."""
    for start in range(0, len(recording_ids), LOOKUP_SHARE):
        share = recording_ids[start : start + LOOKUP_SHARE]
        yield from session.scalars(
            select(Recording.id)
            .where(Recording.id.in_(share), Recording.status != RecordingStatus.DELETED)
            .order_by(Recording.id)
        )
