"""The retention sweep: delete each recording past its retention date, one transaction per recording.

Each deletion commits before its objects are deleted, so a kill at any point leaves either an untouched
recording (deleted on the next run) or a deleted one whose objects remain (orphans, which the next run
removes first). The same loop serves the daily job and `callvault retention sweep`.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from recordings_service.audit import Actor
from recordings_service.db import utcnow
from recordings_service.models import DeletionReceipt
from recordings_service.privacy.deletion import delete_if_due, purge_objects
from recordings_service.privacy.sweep import due_ids, find_orphans, record_receipt, removable
from recordings_service.runtime import Runtime
from recordings_service.storage.object_store import ObjectStore

log = logging.getLogger("jobs.retention")
RETENTION_ACTOR = Actor(id=None, name="retention", role="system")
BATCH = 500


@dataclass
class SweepReport:
    """What a run deleted (or, dry, would delete): recording ids in order and counts by kind."""

    dry_run: bool
    recording_ids: list[str] = field(default_factory=list)
    orphan_keys: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    receipt: DeletionReceipt | None = None
    wall_s: float = 0.0


def sweep(
    sessions: sessionmaker[Session], store: ObjectStore, *, now: datetime, batch: int, actor: Actor, dry_run: bool
) -> SweepReport:
    """Remove the orphans an interrupted run left, then delete every due recording; write the receipt."""
    started_at, started = utcnow(), time.monotonic()
    report = SweepReport(dry_run=dry_run)
    with sessions() as session:
        report.orphan_keys = removable(find_orphans(session, store))
    if not dry_run:
        report.counts["orphan_object_versions"] += purge_objects(store, report.orphan_keys)
    last_id = ""
    while True:
        with sessions() as session:
            ids = due_ids(session, now=now, after=last_id, limit=batch)
        if not ids:
            break
        last_id = ids[-1]
        if dry_run:
            report.recording_ids.extend(ids)
            continue
        for recording_id in ids:
            with sessions() as session:
                try:
                    deletion = delete_if_due(session, store, recording_id=recording_id, now=now, actor=actor)
                    session.commit()
                except Exception:
                    # One recording that cannot be deleted (a store outage, a row in a new table) must
                    # not keep every later one: it is counted, logged, and tried again on the next run.
                    session.rollback()
                    log.warning("recording not deleted", extra={"recording": recording_id}, exc_info=True)
                    report.counts["failed"] += 1
                    continue
            if deletion is None:
                report.counts["skipped"] += 1
                continue
            report.recording_ids.append(recording_id)
            report.counts.update(deletion.counts)
            report.counts["object_versions"] += purge_objects(store, deletion.keys)
    report.wall_s = time.monotonic() - started
    if not dry_run:
        with sessions() as session:
            report.receipt = record_receipt(
                session,
                actor=actor,
                kind="sweep",
                started_at=started_at,
                finished_at=utcnow(),
                deleted_ids=report.recording_ids,
                counts={"recordings": len(report.recording_ids), **report.counts},
            )
            session.commit()
    return report


def sweep_retention(runtime: Runtime) -> None:
    """The daily job."""
    report = sweep(runtime.sessions, runtime.store, now=utcnow(), batch=BATCH, actor=RETENTION_ACTOR, dry_run=False)
    log.info(
        "retention sweep",
        extra={"recordings": len(report.recording_ids), **report.counts, "wall_s": round(report.wall_s, 2)},
    )
