"""Jobs around ingest: import the drop-folder inbox, reconcile the database with the object store."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from sqlalchemy.exc import OperationalError

from recordings_service.audit import Actor
from recordings_service.calls import inbox, inbox_attempts, inbox_filing, inbox_purge
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
    counts = {
        "imported": 0,
        "already_imported": 0,
        "refused": 0,
        "waiting": 0,
        "orphaned": 0,  # filed under failed/: a file whose partner, or a note whose item, never came within a day
        "taken": 0,  # filed by another jobs process since the scan, or taken back or replaced by the operator
        "deferred": 0,  # left in the inbox while the object store or the database is unreachable, for the next run
        "errors": 0,  # failed unexpectedly (each logged), left in the inbox for the next run
        "given_up": 0,  # failed unexpectedly MAX_ATTEMPTS runs in a row (each logged), filed under failed/
        "purged": 0,  # files of calls imported longer ago than the keeping time, removed from done/
        "failed_purged": 0,  # refused items and their notes filed longer ago than failed/'s keeping time, removed
    }
    try:
        scan = inbox.scan_inbox(settings, now=utcnow())
    except inbox.InboxUnavailable as exc:
        # The inbox a file, or a folder the jobs process may not list: raised, a traceback naming its path every run.
        counts["errors"] += 1
        log.warning("inbox not listed, run stopped", extra={"reason": str(exc)})
        log.info("inbox imported", extra=counts)
        return
    counts["waiting"] = scan.waiting
    for folder in scan.not_folders:
        # Left alone (it may be the operator's); what would be filed there stays in the inbox, counted under errors.
        log.warning("inbox folder is not a folder, nothing can be filed there", extra={"folder": folder})
    if scan.subfolders:
        # Their names may name a site or a customer: counted, never named. Before, a day's calls copied in as a folder
        # waited there for good, counted nowhere, and nothing told the operator.
        log.warning(
            "inbox holds folders it does not import: drop the files themselves", extra={"folders": scan.subfolders}
        )
    try:
        _import_scan(runtime, scan, counts)
        _purge_filed(settings, counts)
    except inbox.InboxUnavailable as exc:
        # Every item would fail alike, each with a warning: the rest waits in the inbox (if any is left) for a run
        # that can lock it.
        counts["errors"] += 1
        log.warning("inbox not locked, run stopped", extra={"reason": str(exc)})
    log.info("inbox imported", extra=counts)


def _purge_filed(settings: Settings, counts: dict[str, int]) -> None:
    with inbox.holding_inbox(settings):
        for folder, purge, count in (
            ("done", inbox_purge.purge_done, "purged"),
            ("failed", inbox_purge.purge_failed, "failed_purged"),
        ):
            try:
                counts[count] = purge(settings, now=time.time())
            except OSError as exc:
                # The folder a file or a link (each run warns of it), or not readable: nothing is removed from it, the
                # import goes on.
                counts["errors"] += 1
                log.warning("inbox folder not purged", extra={"folder": folder, "reason": inbox.errno_name(exc)})


def _import_scan(runtime: Runtime, scan: inbox.InboxScan, counts: dict[str, int]) -> None:
    settings = runtime.settings
    for path in scan.stray_notes:
        notes = scan.notes_of(path)
        with _one_item(settings, counts, "note", [path], notes):
            counts["orphaned" if inbox_filing.settle_stray_note(settings, path, notes=notes) else "taken"] += 1
    for path in scan.orphans:
        notes = scan.notes_of(path)
        with _one_item(settings, counts, "orphan", [path], notes):
            counts["orphaned" if inbox_filing.settle_orphan(settings, path, notes=notes) else "taken"] += 1
    for sidecar in scan.ambiguous:
        notes = scan.notes_of(sidecar.path)
        with _one_item(settings, counts, "ambiguous", [sidecar.path], notes):
            counts["refused" if inbox_filing.settle_ambiguous(settings, sidecar, notes=notes) else "taken"] += 1
    for item in scan.ambiguous_pairs:
        notes = scan.notes_of(item.audio, *item.sidecars)
        with _one_item(settings, counts, "ambiguous", [item.audio, *item.sidecars], notes):
            counts["refused" if inbox_filing.settle_ambiguous_pair(settings, item, notes=notes) else "taken"] += 1
    for index, pair in enumerate(scan.ready):
        outcome: str | None = None  # stays so when the pair failed unexpectedly, counted under errors or given_up
        notes = scan.notes_of(pair.audio, pair.sidecar)
        with _one_item(settings, counts, "pair", [pair.audio, pair.sidecar], notes):
            outcome = _import_pair(runtime, pair, notes)
        if outcome == "deferred":
            # Filed under failed/, a call was lost to an outage; the rest of the scan would only fail the same way.
            counts["deferred"] = len(scan.ready) - index
            break
        if outcome is not None:
            counts[outcome] += 1


@contextmanager
def _one_item(
    settings: Settings, counts: dict[str, int], kind: str, paths: list[Path], notes: list[Path] | None = None
) -> Iterator[None]:
    """One item (its files `paths`, and the importer's `notes` on it, removed when it is filed), holding the inbox.
    An unexpected error (the database's, a move into done/ or failed/ refused) is logged by kind, never by file name,
    and counted; the item stays for the next run, until it has failed so `MAX_ATTEMPTS` runs in a row and is filed
    under failed/. Raised, it ended the run at this item, oldest first, every 30 s, and no drop behind it was
    imported; left, it was retried so for ever. The inbox's lock not taken raises `InboxUnavailable`, before the item
    is begun: caught here, it stopped the run with contextlib's "generator didn't yield"."""
    with inbox.holding_inbox(settings):
        found_as = inbox_attempts.item_key(paths)
        try:
            yield
        except Exception as exc:
            log.warning("inbox item not filed", extra={"kind": kind}, exc_info=True)
            recording_id = exc.recording_id if isinstance(exc, inbox_filing.ImportedNotFiled) else None
            try:
                given_up = inbox_filing.settle_failure(
                    settings, paths, now=utcnow(), found_as=found_as, recording_id=recording_id, notes=notes or []
                )
            except Exception:
                # Counting the failure, or filing the item given up, failed too: it stays, counted under errors.
                log.warning("inbox item not filed", extra={"kind": kind}, exc_info=True)
                given_up = False
            counts["given_up" if given_up else "errors"] += 1


def _import_pair(runtime: Runtime, pair: inbox.InboxPair, notes: list[Path]) -> str:
    """Import and file one pair; what became of it, as the count it goes to."""
    settings = runtime.settings
    if not inbox.still_ready(settings, pair, now=utcnow()):
        return "taken"
    read: set[inbox.FileIdentity] = set()
    with runtime.sessions() as session:
        try:
            result = inbox.import_pair(
                session, runtime.store, runtime.envelope, settings=settings, pair=pair, read=read
            )
            session.commit()
        except Unavailable as exc:
            # The object store, or the audio workers that probe the file, cannot serve now: the pair waits.
            session.rollback()
            log.warning("inbox run deferred", extra={"reason": exc.message})
            return "deferred"
        except OperationalError as exc:
            # The database unreachable (a restart, a failover): as for the store, the pair waits, no attempt counted.
            # Counted, five runs of an outage filed the whole backlog under failed/ for the operator to drop again.
            session.rollback()
            log.warning("inbox run deferred: the database is unavailable", extra={"reason": type(exc.orig).__name__})
            return "deferred"
        except DomainError as exc:
            session.rollback()
            inbox_filing.settle_pair(settings, pair, exc, notes=notes, read=read)
            return "refused"
    inbox_filing.settle_pair(settings, pair, result, notes=notes)
    return "imported" if result.created else "already_imported"


def reconcile(runtime: Runtime) -> None:
    grace_s = runtime.settings.orphan_grace_s
    with runtime.sessions() as session:
        report = reconcile_storage(session, runtime.store, actor=RECONCILE_ACTOR, grace_s=grace_s)
        session.commit()
    counts = asdict(report)
    counts["spools_removed"] = purge_stale_spools(runtime.settings, older_than_s=grace_s, now=time.time())
    counts["receipts_purged"] = _purge_receipts(runtime)
    log.info("storage reconciled", extra=counts)


def _purge_receipts(runtime: Runtime) -> int:
    """The inbox receipts of calls deleted since (hourly: each receipt is read, and done/ holds one for every call
    ever imported)."""
    settings = runtime.settings
    if not (inbox.inbox_dir(settings) / "done").is_dir():
        return 0  # nothing ever imported (a link in its place is not followed, and the import job warns of it)
    try:
        with inbox.holding_inbox(settings), runtime.sessions() as session:
            return inbox_purge.purge_receipts_of_deleted(session, settings)
    except inbox.InboxUnavailable as exc:
        log.warning("inbox receipts not purged", extra={"reason": str(exc)})
    except OSError as exc:  # done/ not readable: its path is never logged, it may name the site
        log.warning("inbox receipts not purged", extra={"reason": inbox.errno_name(exc)})
    return 0
