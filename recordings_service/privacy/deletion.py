"""Deleting a recording: its rows go, its data key is destroyed, a tombstone stays; objects go after commit.

`delete_recording` works in the caller's transaction and returns the object keys to delete. The caller
commits first, then removes every version of those keys (`purge_objects`). The sweep deletes the objects of
many committed deletions at once (`purge_prefixes`), then marks their tombstones purged: a crash in between
leaves tombstones pending, whose objects the next sweep removes (`pending_purges`); `sweep.find_orphans` finds
any object left of a deleted recording. Destroying the wrapped data key makes every copy of the ciphertext
unreadable at once, backups and stray versions included (crypto-shredding).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_events
from recordings_service.db import utcnow
from recordings_service.errors import Conflict, NotFound
from recordings_service.models import (
    DerivedVersion,
    Recording,
    Tombstone,
)
from recordings_service.models.recording import RecordingStatus
from recordings_service.privacy import ledger
from recordings_service.privacy.dependent_rows import delete_dependent_rows
from recordings_service.privacy.holds import held_clause, is_held
from recordings_service.privacy.retention import erasures_keeping
from recordings_service.privacy.sweep import due_clause
from recordings_service.storage.derived import derived_versions
from recordings_service.storage.object_store import ObjectStore, ObjectVersion


@dataclass(frozen=True)
class Deletion:
    """What one deletion removed (rows by kind) and the object keys whose every version must go next."""

    recording_id: str
    keys: tuple[str, ...]
    counts: dict[str, int] = field(default_factory=dict)
    prefixes: tuple[str, ...] = ()  # where objects of the recording may be that only a listing finds
    versions: tuple[tuple[str, str], ...] = ()  # (key, version id) of objects known without a listing


def derived_prefix(recording_id: str) -> str:
    return f"derived/{recording_id}/"


def delete_recording(
    session: Session,
    store: ObjectStore,
    *,
    recording_id: str,
    reason: str,
    actor: Actor,
    now: datetime | None = None,
    erasure_id: str | None = None,
) -> Deletion | None:
    """Delete one recording's personal data (for the erasure request `erasure_id`, which its event then names);
    None if it was deleted already. A held recording is refused."""
    recording = locked_recording(session, recording_id)
    if recording is None:
        raise NotFound(f"recording {recording_id} not found", why="recording_not_found")
    if recording.status == RecordingStatus.DELETED:
        return None
    if is_held(session, recording):
        raise Conflict(f"recording {recording_id} is on legal hold", why="on_legal_hold")
    keys = object_keys(store, recording)
    (deletion,) = _erase(
        session,
        [recording],
        reason=reason,
        actor=actor,
        now=now or utcnow(),
        object_counts={recording.id: len(keys)},
        erasures={recording.id: erasure_id} if erasure_id else None,
    )
    return replace(deletion, keys=keys)


def object_prefixes(recording: Recording) -> tuple[str, ...]:
    """Where a recording's objects live: its original (also a replaced one, `<id>.pci-…`) and `derived/<id>/`."""
    folders = {recording.storage_key.rsplit("/", 1)[0], f"originals/{recording.created_at:%Y/%m}"}
    return (*[f"{folder}/{recording.id}" for folder in sorted(folders)], derived_prefix(recording.id))


def purge_targets(
    recording: Recording, derived: Sequence[tuple[str, str]]
) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """What deleting every object of `recording` takes: the prefixes to list, and the versions known without.

    Listing is the costliest step of a sweep. Ingest keeps the version id of an original put whole, and each
    put of a derivative its version (`derived`); a replaced (PCI), multipart-uploaded or restored original,
    or derivatives from before `derived_versions`, are listed.
    """
    version = recording.storage_version_id if recording.pci_redacted_at is None else None
    if version is None:
        return object_prefixes(recording), ()
    original = ((recording.storage_key, version),)
    if recording.derived_versions_known:
        return (), (*original, *derived)
    return (derived_prefix(recording.id),), original


def object_keys(store: ObjectStore, recording: Recording) -> tuple[str, ...]:
    """The original (also a replaced one, e.g. before PCI muting: `<id>.pci-…`) and every derivative's key."""
    found = {version.key for version in versions_under(store, object_prefixes(recording))}
    return tuple(sorted(found | {recording.storage_key}))


def delete_due(session: Session, *, recording_ids: Sequence[str], now: datetime, actor: Actor) -> list[Deletion]:
    """The sweep's step: delete the rows of those of `recording_ids` that, under their row locks, are still due.

    One transaction per batch rather than per recording: a recording's own transaction cost ~27 ms of
    round trips (lock, probe, deletes, tombstone, audit head, commit), ten times the 3 ms a recording may
    take for 100 000 in five minutes. A batch is as safe: its rows, tombstones and audit events commit
    together or not at all, so a kill before the commit leaves the whole batch due (the rerun deletes and
    audits it once), and after it the tombstones are pending until the objects are gone. The store is not
    touched: the sweep lists and deletes the objects of the batch after the commit.
    """
    if not recording_ids:
        return []
    # Lock in id order (two sweeps never deadlock), then read the state as it is after any wait for a lock.
    lock_in_id_order(session, recording_ids)
    due = session.scalars(
        select(Recording)
        .where(Recording.id.in_(recording_ids), due_clause(now), ~held_clause())
        .order_by(Recording.id)
        .execution_options(populate_existing=True)
    ).all()
    erasures = erasures_keeping(session, [recording.id for recording in due])  # they go for the erasure that kept them
    live = [recording for recording in due if recording.id not in erasures]
    deletions = _erase(session, live, reason="retention", actor=actor, now=now)
    if kept := [recording for recording in due if recording.id in erasures]:
        # Counted apart in the sweep's receipt: calls an erasure kept until their duty ended.
        for deletion in _erase(session, kept, reason="erasure", actor=actor, now=now, erasures=erasures):
            deletions.append(replace(deletion, counts={**deletion.counts, "erasure": 1}))
    return sorted(deletions, key=lambda deletion: deletion.recording_id)


def pending_purges(session: Session, *, limit: int) -> dict[str, tuple[str, ...]]:
    """Deleted recordings whose objects may remain (a run killed after a commit, an erasure): prefixes by id."""
    rows = session.scalars(
        select(Recording)
        .join(Tombstone, Tombstone.recording_id == Recording.id)
        .where(Tombstone.objects_purged_at.is_(None))
        .order_by(Recording.id)
        .limit(limit)
    )
    return {recording.id: object_prefixes(recording) for recording in rows}


def mark_purged(session: Session, store: ObjectStore, recording_ids: Sequence[str], *, now: datetime) -> None:
    """Every object version of these deleted recordings is gone: written to the store's deletion ledger first (a
    store that refuses it leaves them pending, to be purged and written again), so that a restore deletes them
    again (`erasure.replay_deletions`)."""
    if recording_ids:
        ledger.record_deletions(session, store, recording_ids)
        purged = update(Tombstone).where(Tombstone.recording_id.in_(recording_ids)).values(objects_purged_at=now)
        session.execute(purged, execution_options={"synchronize_session": False})


STREAM_SHARE = 100  # versions per `DeleteObjects` call while listings are still running


def purge_prefixes(
    store: ObjectStore,
    prefixes: dict[str, tuple[str, ...]],
    *,
    workers: int,
    known: Sequence[tuple[str, str]] = (),
) -> list[tuple[str, str]]:
    """Delete the `known` versions and every version under each recording's prefixes, after the deletions
    committed; returns the (key, version id) of each.

    Both steps wait on the store, not the CPU, so they run in threads: the listings one per recording in
    `workers` threads, and, while they run, the versions found so far are deleted in shares of
    `STREAM_SHARE` (one `DeleteObjects` call each) in a quarter as many.
    """
    found: list[tuple[str, str]] = list(known)
    with ThreadPoolExecutor(max(1, workers)) as listers, ThreadPoolExecutor(max(1, workers // 4)) as deleters:
        listings = [listers.submit(versions_under, store, item) for item in prefixes.values() if item]
        deletions = [
            deleters.submit(store.delete_versions, known[start : start + STREAM_SHARE])
            for start in range(0, len(known), STREAM_SHARE)
        ]
        pending: list[tuple[str, str]] = []
        for listing in as_completed(listings):
            versions = [(version.key, version.version_id) for version in listing.result()]
            found.extend(versions)
            pending.extend(versions)
            if len(pending) >= STREAM_SHARE:
                deletions.append(deleters.submit(store.delete_versions, pending))
                pending = []
        if pending:
            deletions.append(deleters.submit(store.delete_versions, pending))
        for deletion in deletions:
            deletion.result()
    return found


def purge_objects(store: ObjectStore, keys: tuple[str, ...] | list[str]) -> int:
    """Delete every version (and delete marker) of each key, after the deletion committed; returns how many."""
    return sum(store.delete(key) for key in keys)


def _erase(
    session: Session,
    recordings: list[Recording],
    *,
    reason: str,
    actor: Actor,
    now: datetime,
    object_counts: Mapping[str, int] | None = None,
    erasures: Mapping[str, str] | None = None,
) -> list[Deletion]:
    """Delete these recordings' rows, tombstone them and audit each (naming the erasure that kept any in `erasures`).

    A tombstone is stamped with the moment of deleting, not `now` (the run's or the request's start, which decides what
    is due): a long sweep's later batch, or an erasure that waited for its locks, was stamped minutes before it
    committed, before a window the deletion feed's reader had already read (`deletion_feed`)."""
    if not recordings:
        return []
    ids = [recording.id for recording in recordings]
    counts = delete_dependent_rows(session, ids, reason=reason, now=now)
    deleted_at = utcnow()
    session.execute(
        insert(Tombstone),
        [
            {
                "recording_id": recording.id,
                "started_at": recording.started_at,
                "purposes": list(recording.purposes),
                "retain_until": recording.retain_until,
                "deleted_at": deleted_at,
                "reason": reason,
                "deleted_by": actor.name,
            }
            for recording in recordings
        ],
    )
    derived = derived_versions(session, ids)
    session.execute(delete(DerivedVersion).where(DerivedVersion.recording_id.in_(ids)))
    deletions = []
    for recording in recordings:
        prefixes, versions = purge_targets(recording, derived[recording.id])
        deletions.append(
            Deletion(
                recording_id=recording.id,
                keys=(recording.storage_key,),
                counts={**counts[recording.id], "data_keys": 1},
                prefixes=prefixes,
                versions=versions,
            )
        )
    # The wrapped data key goes (crypto-shredding), the link to a data subject, and the date (the tombstone keeps
    # when it went).
    session.execute(
        update(Recording)
        .where(Recording.id.in_(ids))
        .values(wrapped_data_key=b"", status=RecordingStatus.DELETED, customer_id=None, retain_until=None),
        execution_options={"synchronize_session": "evaluate"},
    )
    record_events(
        session,
        actor=actor,
        action="recording.deleted",
        object_type="recording",
        items=[
            (
                deletion.recording_id,
                {
                    "reason": reason,
                    **({"request_id": erasures[deletion.recording_id]} if erasures else {}),
                    **deletion.counts,
                    **({} if object_counts is None else {"object_keys": object_counts[deletion.recording_id]}),
                },
            )
            for deletion in deletions
        ],
    )
    return deletions


def versions_under(store: ObjectStore, prefixes: Iterable[str]) -> list[ObjectVersion]:
    """Every version of a recording's objects under its `object_prefixes`."""
    # `originals/…/<id>` as a prefix also matches a longer id: keep the key itself and its `.suffix` copies.
    return [
        version
        for prefix in prefixes
        for version in store.list_versions(prefix)
        if prefix.endswith("/") or version.key == prefix or version.key.startswith(prefix + ".")
    ]


def lock_in_id_order(session: Session, recording_ids: Sequence[str]) -> None:
    """Lock these recordings' rows until the transaction ends, in id order: two callers locking overlapping sets
    take them in the same order, so neither waits on the other for good."""
    session.execute(
        select(Recording.id).where(Recording.id.in_(recording_ids)).order_by(Recording.id).with_for_update()
    ).all()


def locked_recording(session: Session, recording_id: str) -> Recording | None:
    """The recording row, locked against a concurrent sweep, hold or erasure, as the database has it now."""
    return session.scalars(
        select(Recording)
        .where(Recording.id == recording_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
