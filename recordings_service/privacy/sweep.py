"""What the retention sweep reads and proves: due recordings, orphaned objects, the check, the receipts.

The loop itself (one transaction per batch, its objects deleted after its commit) belongs to its entry
points, `jobs/retention.py` and `callvault retention sweep`, because only they commit.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.db import id_cursor
from recordings_service.models import DeletionReceipt, Recording, RetentionCheckRun, Tombstone
from recordings_service.models.recording import RecordingStatus
from recordings_service.privacy.retention import erasures_keeping, kept_past_retention, kept_restricted
from recordings_service.storage.object_store import ObjectStore

OBJECT_PREFIXES = ("originals/", "derived/")
BATCH = 1000
# Tombstones a receipt names per UPDATE (SQLite takes at most 32 766 bound values in one statement).
NAMED_PER_STATEMENT = 1000
# The tag of the deletion receipts' cursors (`id_cursor`): another list's id is no place in this one.
CURSOR_TAG = "receipts"


def due_clause(now: datetime) -> ColumnElement[bool]:
    """Recordings past `retain_until`, neither on hold nor restricted (`kept_past_retention`), and not deleted yet.

    Before 2026-12-08 a restricted call (GDPR Art. 18) was deleted at the end of its retention period while the
    restriction was in force, which allows the call nothing but storage."""
    return _past_retention(now) & ~kept_past_retention()


def count_kept_restricted(session: Session, *, now: datetime) -> int:
    """Recordings past `retain_until` that only their customer's restriction of processing keeps: the sweep's
    `kept_restricted`, due once the restriction is lifted."""
    query = select(func.count()).select_from(Recording).where(_past_retention(now), kept_restricted())
    return session.scalar(query) or 0


def _past_retention(now: datetime) -> ColumnElement[bool]:
    return (Recording.retain_until < now) & (Recording.status != RecordingStatus.DELETED)


def due_ids(session: Session, *, now: datetime, after: str = "", limit: int = BATCH) -> list[str]:
    """The next `limit` due recordings in id order, after the id `after` (a sweep resumes from there)."""
    return list(
        session.scalars(
            select(Recording.id).where(due_clause(now), Recording.id > after).order_by(Recording.id).limit(limit)
        )
    )


@dataclass(frozen=True)
class DueCall:
    """What a dry run says of a recording the sweep would delete: when it was made, until when it was to be kept,
    and the erasure whose duty it was kept for, if one kept it (it goes for that erasure, not for its retention)."""

    recording_id: str
    started_at: datetime
    retain_until: datetime | None  # never None for a due call (`due_clause`); the column is nullable
    erasure_id: str | None


def due_calls(session: Session, recording_ids: Sequence[str]) -> list[DueCall]:
    """`recording_ids` (due ones, as `due_ids` lists them) as a dry run names them, in the same order."""
    found: dict[str, DueCall] = {}
    for start in range(0, len(recording_ids), NAMED_PER_STATEMENT):
        batch = recording_ids[start : start + NAMED_PER_STATEMENT]
        erasures = erasures_keeping(session, batch)
        rows = session.execute(
            select(Recording.id, Recording.started_at, Recording.retain_until).where(Recording.id.in_(batch))
        )
        for recording_id, started_at, retain_until in rows:
            found[recording_id] = DueCall(recording_id, started_at, retain_until, erasures.get(recording_id))
    return [found[recording_id] for recording_id in recording_ids if recording_id in found]


def count_overdue(session: Session, *, now: datetime) -> int:
    return session.scalar(select(func.count()).select_from(Recording).where(due_clause(now))) or 0


def recording_id_of(key: str) -> str | None:
    """The recording an object belongs to: `originals/YYYY/MM/<id>[.suffix]` or `derived/<id>/…`."""
    parts = key.split("/")
    if parts[0] == "originals" and len(parts) == 4:
        return parts[3].split(".", 1)[0]
    if parts[0] == "derived" and len(parts) >= 3:
        return parts[1]
    return None


@dataclass(frozen=True)
class Orphans:
    """Object keys (with any version left) whose recording is not live."""

    of_deleted: list[str]  # the recording is deleted: the sweep removes these
    without_row: list[str]  # no recording at all (an ingest that crashed; reconcile removes originals)

    @property
    def count(self) -> int:
        return len(self.of_deleted) + len(self.without_row)


def find_orphans(session: Session, store: ObjectStore) -> Orphans:
    """Every key under `originals/` and `derived/`, in any version or delete marker, without a live recording."""
    keys_by_id: dict[str, set[str]] = {}
    strays: list[str] = []
    for prefix in OBJECT_PREFIXES:
        for version in store.list_versions(prefix):
            recording_id = recording_id_of(version.key)
            if recording_id is None:
                strays.append(version.key)
            else:
                keys_by_id.setdefault(recording_id, set()).add(version.key)
    status = _statuses(session, list(keys_by_id))
    of_deleted: list[str] = []
    without_row = sorted(set(strays))
    for recording_id, keys in keys_by_id.items():
        state = status.get(recording_id)
        if state == RecordingStatus.DELETED:
            of_deleted.extend(keys)
        elif state is None:
            without_row.extend(keys)
    return Orphans(of_deleted=sorted(of_deleted), without_row=sorted(without_row))


def removable(orphans: Orphans) -> list[str]:
    """Orphans the sweep deletes: those of deleted recordings, and derivatives of recordings that never were.

    An original without a row may be an upload whose row is about to commit; reconcile removes those
    once they are older than its grace period.
    """
    return orphans.of_deleted + [key for key in orphans.without_row if key.startswith("derived/")]


@dataclass(frozen=True)
class RetentionCheck:
    overdue: int
    orphans: int

    @property
    def clean(self) -> bool:
        return self.overdue == 0 and self.orphans == 0


def check_retention(session: Session, store: ObjectStore, *, now: datetime) -> RetentionCheck:
    """The proof: nothing overdue, and no object left without a live recording."""
    return RetentionCheck(overdue=count_overdue(session, now=now), orphans=find_orphans(session, store).count)


def record_check(
    session: Session, *, result: RetentionCheck, checked_at: datetime, duration_s: float, actor: Actor
) -> RetentionCheckRun:
    """Keep a check's result, so the dashboard can show it without listing the store."""
    run = RetentionCheckRun(
        checked_at=checked_at,
        overdue=result.overdue,
        orphans=result.orphans,
        duration_s=round(duration_s, 3),
        actor=actor.name,
    )
    session.add(run)
    session.flush()
    return run


def latest_check(session: Session) -> RetentionCheckRun | None:
    return session.scalars(select(RetentionCheckRun).order_by(RetentionCheckRun.checked_at.desc()).limit(1)).first()


def record_receipt(
    session: Session,
    *,
    actor: Actor,
    kind: str,
    started_at: datetime,
    finished_at: datetime,
    deleted_ids: list[str],
    counts: Mapping[str, int],
    earlier: Collection[str] = (),
) -> DeletionReceipt:
    """Write the receipt of one run (ids, counts and times only) and its audit event.

    The receipt names those of `deleted_ids` that no receipt names yet, claiming their tombstones: two sweeps at
    once (jobs processes started together) each took the other's committed deletions for an interrupted run's, and
    both receipts named them. Its `recordings` count, and `from_interrupted_runs` for those in `earlier` (deletions
    of other runs), count the recordings it names; the counts by kind stay those of the run's own work."""
    ordered = _claimed(session, sorted(set(deleted_ids)))
    counts = {**counts, "recordings": len(ordered)}
    if interrupted := len(set(earlier).intersection(ordered)):
        counts["from_interrupted_runs"] = interrupted
    receipt = DeletionReceipt(
        kind=kind,
        started_at=started_at,
        finished_at=finished_at,
        duration_s=round((finished_at - started_at).total_seconds(), 3),
        recordings=len(ordered),
        counts=counts,
        first_recording_id=ordered[0] if ordered else None,
        last_recording_id=ordered[-1] if ordered else None,
        actor=actor.name,
    )
    session.add(receipt)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="retention.swept" if kind == "sweep" else f"{kind}.receipt",
        object_type="deletion_receipt",
        object_id=receipt.id,
        details={"recordings": len(ordered), **counts},
    )
    return receipt


def _claimed(session: Session, recording_ids: list[str]) -> list[str]:
    """Mark these recordings' tombstones named by a receipt; those no receipt named before, in id order.

    On PostgreSQL a tombstone another receipt is claiming waits for that transaction, then is skipped if it won."""
    claimed: list[str] = []
    for start in range(0, len(recording_ids), NAMED_PER_STATEMENT):
        named = recording_ids[start : start + NAMED_PER_STATEMENT]
        claimed += session.scalars(
            update(Tombstone)
            .where(Tombstone.recording_id.in_(named), Tombstone.in_receipt.is_(False))
            .values(in_receipt=True)
            .returning(Tombstone.recording_id)
        )
    return sorted(claimed)


def unnamed_deletions(session: Session, *, reason: str, excluding: Collection[str]) -> list[str]:
    """Recordings deleted for `reason` that no receipt names: a run killed after its deletions committed but
    before its receipt. The next run's receipt names them too.

    The sweep (`retention`) also deletes for `erasure` the calls an erasure kept until a duty ended; an erasure's
    own deletions are named by its receipt in their transaction, so an unnamed one is a sweep's."""
    reasons = [reason, "erasure"] if reason == "retention" else [reason]
    rows = session.scalars(
        select(Tombstone.recording_id).where(Tombstone.reason.in_(reasons), Tombstone.in_receipt.is_(False))
    )
    left = set(excluding)
    return sorted(recording_id for recording_id in rows if recording_id not in left)


def list_receipts(session: Session, *, cursor: str | None = None, limit: int = 50) -> list[DeletionReceipt]:
    """Receipts newest first; `cursor`: this list's `next_cursor`."""
    query = select(DeletionReceipt)
    if cursor:
        query = query.where(DeletionReceipt.id < id_cursor(cursor, CURSOR_TAG))
    return list(session.scalars(query.order_by(DeletionReceipt.id.desc()).limit(limit)))


def _statuses(session: Session, recording_ids: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for offset in range(0, len(recording_ids), BATCH):
        batch = recording_ids[offset : offset + BATCH]
        rows = session.execute(select(Recording.id, Recording.status).where(Recording.id.in_(batch)))
        found.update((recording_id, status) for recording_id, status in rows)
    return found
