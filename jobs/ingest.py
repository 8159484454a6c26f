"""Jobs around ingest: import the drop-folder inbox, reconcile the database with the object store."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict

from recordings_service.audit import Actor
from recordings_service.calls import inbox
from recordings_service.config import Settings
from recordings_service.db import utcnow
from recordings_service.errors import DomainError, Unavailable
from recordings_service.runtime import Runtime
from recordings_service.storage.reconcile import reconcile_storage
from recordings_service.storage.spool import purge_stale_spools

log = logging.getLogger("jobs.ingest")
RECONCILE_ACTOR = Actor(id=None, name="reconcile", role="system")


def import_inbox(runtime: Runtime) -> None:
    """Each pair is its own unit of work: one refused or failing file does not hold back the others."""
    settings = runtime.settings
    scan = inbox.scan_inbox(settings, now=utcnow())
    counts = {
        "imported": 0,
        "already_imported": 0,
        "refused": 0,
        "waiting": scan.waiting,
        "orphaned": 0,
        "taken": 0,  # filed by another jobs process since the scan, or taken back or replaced by the operator
        "deferred": 0,  # left in the inbox while the object store is unreachable, for the next run
        "errors": 0,  # failed unexpectedly (each logged), left in the inbox for the next run
    }
    for path in scan.orphans:
        with _one_item(settings, counts, "orphan"):
            counts["orphaned" if inbox.settle_orphan(settings, path) else "taken"] += 1
    for sidecar in scan.ambiguous:
        with _one_item(settings, counts, "ambiguous"):
            counts["refused" if inbox.settle_ambiguous(settings, sidecar) else "taken"] += 1
    for index, pair in enumerate(scan.ready):
        outcome: str | None = None  # stays so when the pair failed unexpectedly, counted under errors
        with _one_item(settings, counts, "pair"):
            outcome = _import_pair(runtime, pair)
        if outcome == "deferred":
            # Filed under failed/, a call was lost to an outage; the rest of the scan would only fail the same way.
            counts["deferred"] = len(scan.ready) - index
            break
        if outcome is not None:
            counts[outcome] += 1
    log.info("inbox imported", extra=counts)


@contextmanager
def _one_item(settings: Settings, counts: dict[str, int], kind: str) -> Iterator[None]:
    """One item, holding the inbox. An unexpected error (the database's, a move into done/ or failed/ refused) is
    logged by kind, never by file name, and counted; the item stays for the next run. Raised, it ended the run at
    this item, oldest first, every 30 s, and no drop behind it was imported."""
    try:
        with inbox.holding_inbox(settings):
            yield
    except Exception:
        counts["errors"] += 1
        log.warning("inbox item not filed", extra={"kind": kind}, exc_info=True)


def _import_pair(runtime: Runtime, pair: inbox.InboxPair) -> str:
    """Import and file one pair; what became of it, as the count it goes to."""
    settings = runtime.settings
    if not inbox.still_ready(settings, pair, now=utcnow()):
        return "taken"
    with runtime.sessions() as session:
        try:
            result = inbox.import_pair(session, runtime.store, runtime.envelope, settings=settings, pair=pair)
            session.commit()
        except Unavailable:
            session.rollback()
            return "deferred"
        except DomainError as exc:
            session.rollback()
            inbox.settle_pair(settings, pair, exc)
            return "refused"
    inbox.settle_pair(settings, pair, result)
    return "imported" if result.created else "already_imported"


def reconcile(runtime: Runtime) -> None:
    grace_s = runtime.settings.orphan_grace_s
    with runtime.sessions() as session:
        report = reconcile_storage(session, runtime.store, actor=RECONCILE_ACTOR, grace_s=grace_s)
        session.commit()
    counts = asdict(report)
    counts["spools_removed"] = purge_stale_spools(runtime.settings, older_than_s=grace_s, now=time.time())
    log.info("storage reconciled", extra=counts)
