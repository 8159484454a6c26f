"""The retention sweep: delete each recording past its retention date, one transaction per batch.

Each batch of deletions commits before its objects are deleted; the objects of a batch of committed deletions
are then listed and deleted together, and their tombstones marked purged. A kill at any point leaves
either an untouched recording (deleted on the next run) or a deleted one whose tombstone is still
pending (its objects are removed first on the next run). The same loop serves the daily job and
`callvault retention sweep`; `prove` is the check after it, which lists the whole store.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from recordings_service.audit import Actor
from recordings_service.db import utcnow
from recordings_service.models import DeletionReceipt
from recordings_service.privacy.deletion import (
    Deletion,
    delete_due,
    mark_purged,
    pending_purges,
    purge_prefixes,
    versions_under,
)
from recordings_service.privacy.sweep import (
    RetentionCheck,
    count_kept_restricted,
    count_overdue,
    due_ids,
    find_orphans,
    record_check,
    record_receipt,
    removable,
    unnamed_deletions,
)
from recordings_service.runtime import Runtime
from recordings_service.storage.object_store import ObjectStore

log = logging.getLogger("jobs.retention")
RETENTION_ACTOR = Actor(id=None, name="retention", role="system")
BATCH = 500
STORE_WORKERS = 16  # concurrent listings and deletions: the store's latency, not the CPU, bounds them


@dataclass
class SweepReport:
    """What a run deleted (or, dry, would delete): recording ids in order and counts by kind."""

    dry_run: bool
    recording_ids: list[str] = field(default_factory=list)
    orphan_keys: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    receipt: DeletionReceipt | None = None
    wall_s: float = 0.0
    # Seconds in the batch transactions ("database") and waiting for a batch's objects to go ("store_wait").
    phase_s: dict[str, float] = field(default_factory=lambda: {"database": 0.0, "store_wait": 0.0})


def sweep(
    sessions: sessionmaker[Session], store: ObjectStore, *, now: datetime, batch: int, actor: Actor, dry_run: bool
) -> SweepReport:
    """Remove what an interrupted run left, then delete every due recording; write the receipt. Counted apart
    (`kept_restricted`): the calls past retention that a restriction of processing keeps."""
    started_at, started = utcnow(), time.monotonic()
    report = SweepReport(dry_run=dry_run)
    _purge_pending(sessions, store, report=report, batch=batch)
    last_id = ""
    # The objects of one batch are deleted (store threads) while the next batch's transaction runs: the two
    # wait on different servers. Tombstones are marked purged here, in this thread, once a purge is done.
    with ThreadPoolExecutor(1) as purger:
        purging: tuple[Future[list[tuple[str, str]]], list[str]] | None = None
        while True:
            with sessions() as session:
                ids = due_ids(session, now=now, after=last_id, limit=batch)
            if not ids:
                break
            last_id = ids[-1]
            if dry_run:
                report.recording_ids.extend(ids)
                continue
            with _timed(report, "database"):
                deletions, failed = _delete_batch(sessions, ids, now=now, actor=actor)
            _tally(report, ids=ids, deletions=deletions, failed=failed)
            with _timed(report, "store_wait"):
                report.counts["object_versions"] += _purged(sessions, store, purging)
            purge = purger.submit(
                purge_prefixes,
                store,
                {deletion.recording_id: deletion.prefixes for deletion in deletions},
                workers=STORE_WORKERS,
                known=[version for deletion in deletions for version in deletion.versions],
            )
            purging = (purge, [deletion.recording_id for deletion in deletions])
        if not dry_run:  # which lists no object: it printed object_versions=0 where the sweep removes some
            with _timed(report, "store_wait"):
                report.counts["object_versions"] += _purged(sessions, store, purging)
    with sessions() as session:  # said in the receipt: due once the restriction is lifted
        if kept := count_kept_restricted(session, now=now):
            report.counts["kept_restricted"] = kept
    report.wall_s = time.monotonic() - started
    if not dry_run:
        with sessions() as session:
            earlier = unnamed_deletions(session, reason="retention", excluding=report.recording_ids)
            report.receipt = record_receipt(
                session,
                actor=actor,
                kind="sweep",
                started_at=started_at,
                finished_at=utcnow(),
                deleted_ids=report.recording_ids + earlier,
                counts=report.counts,
                earlier=earlier,
            )
            session.commit()
            if interrupted := report.receipt.counts.get("from_interrupted_runs"):
                report.counts["from_interrupted_runs"] = interrupted
    return report


@contextmanager
def _timed(report: SweepReport, phase: str) -> Iterator[None]:
    began = time.monotonic()
    try:
        yield
    finally:
        report.phase_s[phase] += time.monotonic() - began


def _tally(report: SweepReport, *, ids: list[str], deletions: list[Deletion], failed: int) -> None:
    """Count a batch's deletions into the report."""
    for kind, count in (("failed", failed), ("skipped", len(ids) - len(deletions) - failed)):
        if count:
            report.counts[kind] += count
    for deletion in deletions:
        report.recording_ids.append(deletion.recording_id)
        report.counts.update(deletion.counts)


def _delete_batch(
    sessions: sessionmaker[Session], ids: list[str], *, now: datetime, actor: Actor
) -> tuple[list[Deletion], int]:
    """The batch's deletions in one transaction; should it fail, one transaction per recording of it.

    Returns the deletions and how many recordings failed."""
    try:
        with sessions() as session:
            deletions = delete_due(session, recording_ids=ids, now=now, actor=actor)
            session.commit()
        return deletions, 0
    except Exception:
        log.warning("batch not deleted; trying its recordings one by one", exc_info=True)
    deletions, failed = [], 0
    for recording_id in ids:
        with sessions() as session:
            try:
                deletions += delete_due(session, recording_ids=[recording_id], now=now, actor=actor)
                session.commit()
            except Exception:
                # One recording that cannot be deleted (a row in a new table, a lost lock) must not
                # keep every later one: it is counted, logged, and tried again on the next run.
                session.rollback()
                log.warning("recording not deleted", extra={"recording": recording_id}, exc_info=True)
                failed += 1
    return deletions, failed


def _purged(
    sessions: sessionmaker[Session], store: ObjectStore, purging: tuple[Future[list[tuple[str, str]]], list[str]] | None
) -> int:
    """Wait for a batch's objects to be gone, then mark its tombstones purged; how many versions went."""
    if purging is None:
        return 0
    removed, recording_ids = purging[0].result(), purging[1]
    if recording_ids:
        with sessions() as session:
            mark_purged(session, store, recording_ids, now=utcnow())
            session.commit()
    return len(removed)


def _purge_pending(sessions: sessionmaker[Session], store: ObjectStore, *, report: SweepReport, batch: int) -> None:
    """Objects of deletions committed by a killed run (or by an erasure), before anything new is deleted."""
    while True:
        with sessions() as session:
            pending = pending_purges(session, limit=batch)
        if not pending:
            return
        if report.dry_run:
            found = [version.key for prefixes in pending.values() for version in versions_under(store, prefixes)]
            report.orphan_keys.extend(sorted(set(found)))
            return
        removed = purge_prefixes(store, pending, workers=STORE_WORKERS)
        report.orphan_keys.extend(sorted({key for key, _version in removed}))
        report.counts["orphan_object_versions"] += len(removed)
        with sessions() as session:
            mark_purged(session, store, list(pending), now=utcnow())
            session.commit()


def prove(
    sessions: sessionmaker[Session], store: ObjectStore, *, now: datetime, actor: Actor, clean: bool
) -> RetentionCheck:
    """List the whole store for orphans (with `clean`, delete those the sweep may), count overdue, record it."""
    started = time.monotonic()
    with sessions() as session:
        orphans = find_orphans(session, store)
        left = orphans.count
        if clean:
            doomed = removable(orphans)
            versions = [
                (version.key, version.version_id)
                for key in doomed
                for version in store.list_versions(key)
                if version.key == key
            ]
            store.delete_versions(versions)
            left -= len(doomed)
        result = RetentionCheck(overdue=count_overdue(session, now=now), orphans=left)
        record_check(session, result=result, checked_at=utcnow(), duration_s=time.monotonic() - started, actor=actor)
        session.commit()
    return result


def sweep_retention(runtime: Runtime) -> None:
    """The daily job: the sweep, then the proof (recorded for the compliance dashboard)."""
    report = sweep(runtime.sessions, runtime.store, now=utcnow(), batch=BATCH, actor=RETENTION_ACTOR, dry_run=False)
    result = prove(runtime.sessions, runtime.store, now=utcnow(), actor=RETENTION_ACTOR, clean=True)
    log.info(
        "retention sweep",
        extra={
            "recordings": len(report.recording_ids),
            **report.counts,
            "wall_s": round(report.wall_s, 2),
            "overdue": result.overdue,
            "orphans": result.orphans,
        },
    )
