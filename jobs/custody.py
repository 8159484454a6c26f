"""Research custody over time: expire packages whose access window ended (closing instead the batches nothing
was ever downloaded from), then delete every version of their objects, and mark batches overdue and remind their
institutes weekly. Each step commits on its own,
per batch, so a crash repeats at most one batch's step on the next run."""

from __future__ import annotations

import logging
from datetime import datetime

from recordings_service.config import Settings
from recordings_service.db import utcnow
from recordings_service.research import lifecycle
from recordings_service.runtime import Runtime

log = logging.getLogger("jobs.custody")


def expire_batches(runtime: Runtime, *, now: datetime | None = None) -> dict[str, int]:
    now = now or utcnow()
    with runtime.sessions() as session:
        closed = lifecycle.close_undelivered(session, now=now)
        # Each step commits on its own: the closures' events lock the audit chain's head to the commit, and expiring
        # then waited for a batch a partner held (downloading, confirming) while the partner waited for that head.
        session.commit()
        expired = lifecycle.expire_due(session, now=now)
        session.commit()
        due = lifecycle.batches_to_purge(session, now=now)
    counts = {"expired": len(expired), "closed": len(closed), "purged": 0, "versions": 0}
    for batch_id in due:
        deleted = lifecycle.purge_exports(runtime.store, batch_id)
        with runtime.sessions() as session:
            lifecycle.mark_purged(session, batch_id=batch_id, versions=deleted, now=now)
            session.commit()
        counts["purged"] += 1
        counts["versions"] += deleted
    if any(counts.values()):
        log.info("research packages expired", extra=counts)
    return counts


def remind_overdue(
    runtime: Runtime, *, settings: Settings | None = None, now: datetime | None = None
) -> dict[str, int]:
    settings = settings or runtime.settings
    now = now or utcnow()
    with runtime.sessions() as session:
        overdue = lifecycle.mark_overdue(session, now=now, grace_days=settings.research_grace_days)
        session.commit()
        due = lifecycle.reminders_due(session, now=now)
    counts = {"overdue": len(overdue), "reminded": 0, "logged": 0, "failed": 0, "skipped": 0}
    for batch_id in due:
        with runtime.sessions() as session:
            counts[lifecycle.remind(session, settings, batch_id=batch_id, now=now)] += 1
            session.commit()
    if any(counts.values()):
        log.info("research custody reminders", extra=counts)
    return counts
