"""Jobs around ingest: import the drop-folder inbox, reconcile the database with the object store."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict

from recordings_service.audit import Actor
from recordings_service.calls import inbox
from recordings_service.db import utcnow
from recordings_service.errors import DomainError
from recordings_service.runtime import Runtime
from recordings_service.storage.reconcile import reconcile_storage
from recordings_service.storage.spool import purge_stale_spools

log = logging.getLogger("jobs.ingest")
RECONCILE_ACTOR = Actor(id=None, name="reconcile", role="system")


def import_inbox(runtime: Runtime) -> None:
    """Each pair is its own unit of work: one refused or failing file does not hold back the others."""
    settings = runtime.settings
    scan = inbox.scan_inbox(settings, now=utcnow())
    counts = {"imported": 0, "already_imported": 0, "refused": 0, "waiting": scan.waiting, "orphaned": 0}
    for path in scan.orphans:
        inbox.settle_orphan(settings, path)
        counts["orphaned"] += 1
    for pair in scan.ready:
        with runtime.sessions() as session:
            try:
                result = inbox.import_pair(session, runtime.store, runtime.envelope, settings=settings, pair=pair)
                session.commit()
            except DomainError as exc:
                session.rollback()
                inbox.settle_pair(settings, pair, refusal=exc)
                counts["refused"] += 1
                continue
        inbox.settle_pair(settings, pair)
        counts["imported" if result.created else "already_imported"] += 1
    log.info("inbox imported", extra=counts)


def reconcile(runtime: Runtime) -> None:
    grace_s = runtime.settings.orphan_grace_s
    with runtime.sessions() as session:
        report = reconcile_storage(session, runtime.store, actor=RECONCILE_ACTOR, grace_s=grace_s)
        session.commit()
    counts = asdict(report)
    counts["spools_removed"] = purge_stale_spools(runtime.settings, older_than_s=grace_s, now=time.time())
    log.info("storage reconciled", extra=counts)
