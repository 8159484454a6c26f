"""Time-driven custody: packages whose access window ended are deleted (every version), and batches whose
study ended more than the grace period ago without an accepted confirmation become overdue, with a
reminder to the institute every week until they close (none while its confirmation waits for compliance).

A batch whose window ended with nothing ever downloaded (no download started: not one byte served)
is closed instead (`never_downloaded`): the institute never held a copy, so it owes no confirmation and gets
no reminder. So is one already expired or overdue that way, unless its institute's confirmation waits for
compliance's decision (compliance decides that one; if it sends it back, the next run closes the batch).

The jobs process (`jobs/custody.py`) commits after each step and per batch, so a crash loses at most one
batch's step, which the next run repeats (deleting versions already gone counts as deleted; a reminder
is recorded only once the SMTP server took it).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.config import Settings
from recordings_service.errors import Unavailable
from recordings_service.mail import send_mail
from recordings_service.models import AuditEvent, CustodyConfirmation, ResearchBatch
from recordings_service.models.account import Role
from recordings_service.models.research import BatchState, ClosedReason
from recordings_service.research.selection import criteria_zone, study_ends_at
from recordings_service.storage.object_store import ObjectStore

log = logging.getLogger(__name__)
CUSTODY_ACTOR = Actor(id=None, name="research-custody", role=Role.COMPLIANCE)
REMIND_EVERY = timedelta(days=7)
# The daily job does not run at the same moment each day (a restarted jobs process keeps its own hours, each run
# takes its time): a reminder sent an hour later last week is due today all the same, not a day later.
RUN_TIME_SLACK = timedelta(hours=12)
# A window that ended stops every delivery, whatever the build was doing.
EXPIRING = (BatchState.APPROVED, BatchState.BUILDING, BatchState.READY)
OVERDUE_FROM = (BatchState.APPROVED, BatchState.BUILDING, BatchState.READY, BatchState.EXPIRED)
NO_PACKAGE = (BatchState.CLOSED, BatchState.REJECTED)
# Custody still open once the window ended: closed without a confirmation when nothing was downloaded.
UNDELIVERED_FROM = (*EXPIRING, BatchState.EXPIRED, BatchState.OVERDUE)
DOWNLOADED = "batch.downloaded"  # portal.record_download's event, one per answered request, any range
PACKAGE_BUILT = "research.package_built"  # a package built (again): the bytes downloads count from
# Recorded before the first byte of each answer goes out: one whose process died while sending has no
# `batch.downloaded`, yet bytes may have left, so both say that the institute may hold a copy.
DOWNLOAD_STARTED = "batch.download_started"
SERVING = (DOWNLOAD_STARTED, DOWNLOADED)


def ever_downloaded() -> ColumnElement[bool]:
    """Bytes of the batch's package were (or may have been) served, the whole package or a part of it
    (`downloads` counts only the former: `portal.completes_package`)."""
    served = exists().where(
        AuditEvent.object_id == ResearchBatch.id,
        AuditEvent.object_type == "research_batch",
        AuditEvent.action.in_(SERVING),
    )
    return or_(ResearchBatch.downloads > 0, served)


def was_downloaded(session: Session, batch_id: str) -> bool:
    """`ever_downloaded` of one batch: the institute may hold a copy of it."""
    return bool(session.scalar(select(ever_downloaded()).where(ResearchBatch.id == batch_id)))


def last_served_at(session: Session, batch_id: str) -> datetime | None:
    """When bytes of the batch's package were last served (any range); None if never."""
    return session.scalar(select(func.max(AuditEvent.occurred_at)).where(*_served(batch_id)))


def first_served_at(session: Session, batch_id: str) -> datetime | None:
    """When bytes of the batch's package were first served (any range): when its calls were disclosed."""
    return session.scalar(select(func.min(AuditEvent.occurred_at)).where(*_served(batch_id)))


def _served(batch_id: str) -> tuple[ColumnElement[bool], ...]:
    return (
        AuditEvent.object_id == batch_id,
        AuditEvent.object_type == "research_batch",
        AuditEvent.action.in_(SERVING),
    )


def confirmation_waiting() -> ColumnElement[bool]:
    """The institute's confirmation waits for compliance's decision."""
    return exists().where(CustodyConfirmation.batch_id == ResearchBatch.id, CustodyConfirmation.decision.is_(None))


def undelivered() -> ColumnElement[bool]:
    """Nothing was ever downloaded and no confirmation waits: no copy to account for, nothing to decide."""
    return ~ever_downloaded() & ~confirmation_waiting()


def exports_prefix(batch_id: str) -> str:
    return f"exports/{batch_id}/"


def close_undelivered(session: Session, *, now: datetime, batch_id: str | None = None) -> list[str]:
    """Batches whose window ended with nothing downloaded and no confirmation waiting are closed
    (`never_downloaded`): the pseudonym key is destroyed, and `batches_to_purge` then finds their package.
    Runs before `expire_due`, so such a batch is never said to owe a confirmation. Returns their ids.
    With `batch_id`, that batch only (`early_end`: see there)."""
    closed = []
    query = select(ResearchBatch).where(
        ResearchBatch.state.in_(UNDELIVERED_FROM), ResearchBatch.access_end <= now, undelivered(), *_only(batch_id)
    )
    for batch in session.scalars(query.with_for_update().execution_options(populate_existing=True)):
        # Asked again now the row is locked: a download answered while this job waited for the lock counts.
        if not session.scalar(select(undelivered()).where(ResearchBatch.id == batch.id)):
            continue
        batch.lease_owner = batch.lease_expires_at = None
        close_batch(session, batch, ClosedReason.NEVER_DOWNLOADED, actor=CUSTODY_ACTOR, at=now)
        closed.append(batch.id)
    session.flush()
    return closed


def expire_due(session: Session, *, now: datetime, batch_id: str | None = None) -> list[str]:
    """Batches whose window ended become expired (commit before their objects are deleted); returns ids. With
    `batch_id`, that batch only."""
    expired = []
    query = select(ResearchBatch).where(
        ResearchBatch.state.in_(EXPIRING), ResearchBatch.access_end <= now, *_only(batch_id)
    )
    for batch in session.scalars(query.with_for_update().execution_options(populate_existing=True)):
        batch.state = BatchState.EXPIRED
        batch.expired_at = now
        batch.lease_owner = batch.lease_expires_at = None
        _event(session, batch, "research.batch_expired")
        expired.append(batch.id)
    session.flush()
    return expired


def _only(batch_id: str | None) -> tuple[ColumnElement[bool], ...]:
    return () if batch_id is None else (ResearchBatch.id == batch_id,)


def batches_to_purge(session: Session, *, now: datetime) -> list[str]:
    """Approved batches whose package objects may remain although the window ended or the batch closed."""
    return list(
        session.scalars(
            select(ResearchBatch.id).where(
                ResearchBatch.package_purged_at.is_(None),
                ResearchBatch.approved_at.is_not(None),
                or_(ResearchBatch.access_end <= now, ResearchBatch.state.in_(NO_PACKAGE)),
            )
        )
    )


def purge_exports(store: ObjectStore, batch_id: str) -> int:
    """Delete every version (and delete marker) of every object under `exports/<batch>/`; returns how many."""
    versions = [(version.key, version.version_id) for version in store.list_versions(exports_prefix(batch_id))]
    return store.delete_versions(versions)


def mark_purged(session: Session, *, batch_id: str, versions: int, now: datetime) -> None:
    batch = session.get(ResearchBatch, batch_id, with_for_update=True, populate_existing=True)
    if batch is not None:
        batch.package_purged_at = now
        # Crypto-shredding: a copy of the package left on the store's disks (until a compaction) or in a backup of
        # the store cannot be read without its data key.
        batch.package_wrapped_key = batch.package_master_key_id = None
        _event(session, batch, "research.package_purged", {"versions": versions})


def mark_overdue(session: Session, *, now: datetime, grace_days: int) -> list[str]:
    """Batches still outstanding past study end + grace become overdue; returns their ids. One never
    downloaded is not: the expiry job closes it (its window ended before the study did)."""
    overdue = []
    query = select(ResearchBatch).where(ResearchBatch.state.in_(OVERDUE_FROM), ~undelivered())
    for batch in session.scalars(query.with_for_update().execution_options(populate_existing=True)):
        if overdue_since(batch, grace_days=grace_days) <= now:
            batch.state = BatchState.OVERDUE
            _event(session, batch, "research.batch_overdue")
            overdue.append(batch.id)
    session.flush()
    return overdue


def reminders_due(session: Session, *, now: datetime) -> list[str]:
    """Overdue batches not reminded in the last week, unless the institute's confirmation waits for compliance's
    decision (it has done what the reminder asks, and the page would not take another), or nothing was ever
    downloaded (there is nothing to return or destroy: the expiry job closes it)."""
    return list(session.scalars(select(ResearchBatch.id).where(*_reminder_due(now))))


def remind(session: Session, settings: Settings, *, batch_id: str, now: datetime) -> str:
    """E-mail the institute's contact (or log it, without SMTP) and record it: `reminded`, `logged` or `failed`;
    `skipped` when no reminder is due any more.

    A reminder the SMTP server did not take is not recorded, so the next run tries again.
    """
    batch = session.get(ResearchBatch, batch_id, with_for_update=True, populate_existing=True)
    # Asked again now the row is locked: since `reminders_due` was read, another jobs process may have reminded
    # the institute, or its confirmation may have arrived.
    if (
        batch is None
        or session.scalar(select(ResearchBatch.id).where(ResearchBatch.id == batch_id, *_reminder_due(now))) is None
    ):
        return "skipped"
    subject, body = reminder_text(batch, settings=settings)
    try:
        sent = send_mail(
            settings.smtp_url, sender=settings.mail_from, to=batch.institute.contact, subject=subject, body=body
        )
    except Unavailable as exc:
        log.error("custody reminder not sent", extra={"batch": batch.id, "reason": exc.message})
        return "failed"
    if not sent:
        log.warning("custody reminder not e-mailed: CALLVAULT_SMTP_URL is not set", extra={"batch": batch.id})
    batch.reminders_sent += 1
    batch.last_reminder_at = now
    _event(session, batch, "research.reminder_sent", {"delivered": sent, "reminder": batch.reminders_sent})
    return "reminded" if sent else "logged"


def _reminder_due(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """What makes a batch's reminder due at `now` (`reminders_due`, and `remind` once the row is locked)."""
    return (
        ResearchBatch.state == BatchState.OVERDUE,
        or_(
            ResearchBatch.last_reminder_at.is_(None),
            ResearchBatch.last_reminder_at <= now - REMIND_EVERY + RUN_TIME_SLACK,
        ),
        ~confirmation_waiting(),
        ever_downloaded(),
    )


def overdue_since(batch: ResearchBatch, *, grace_days: int) -> datetime:
    """When a missing confirmation makes the batch overdue: the start of the day after study end + grace, in the zone
    of the batch's criteria, whose days its study end is one of (`selection.study_ends_at`)."""
    return study_ends_at(batch.study_end + timedelta(days=grace_days), criteria_zone(batch.criteria))


def confirmation_due(batch: ResearchBatch, *, grace_days: int) -> datetime | None:
    """`overdue_since` while the institute may owe a confirmation; None once it owes none: the batch closed
    (confirmed, or never downloaded) or was rejected before anything was sent."""
    return None if batch.state in NO_PACKAGE else overdue_since(batch, grace_days=grace_days)


def reminder_text(batch: ResearchBatch, *, settings: Settings) -> tuple[str, str]:
    link = f"{settings.public_url.rstrip('/')}/partner/batches/{batch.id}"
    subject = f"Callvault: confirm the return or destruction of research batch {batch.id}"
    body = (
        f'The study "{batch.study}" ended on {batch.study_end.isoformat()}. Under the processing agreement '
        f"{batch.institute.agreement_ref}, every copy of the call recordings in batch {batch.id} had to be "
        "returned or destroyed when the study ended, and that has not been confirmed yet.\n\n"
        f"Please confirm the return or destruction (signed, with a certificate if you have one) at:\n{link}\n\n"
        f'Tutkimus "{batch.study}" päättyi {batch.study_end.isoformat()}. Vahvistakaa aineiston palautus tai '
        f"hävittäminen osoitteessa {link}\n"
    )
    return subject, body


def close_batch(
    session: Session,
    batch: ResearchBatch,
    reason: ClosedReason,
    *,
    actor: Actor,
    at: datetime,
    details: dict[str, Any] | None = None,
) -> None:
    """Close `batch` for `reason` (its pseudonyms forgotten with it) and record `research.batch_closed` with the
    reason and `details`: the one way a batch closes, whoever closes it (a confirmation accepted, the jobs process)."""
    batch.close(reason, at=at, by=actor.id)  # None: the jobs process
    session.flush()
    record_event(
        session,
        actor=actor,
        action="research.batch_closed",
        object_type="research_batch",
        object_id=batch.id,
        details={**(details or {}), "reason": reason.value},
    )


def _event(session: Session, batch: ResearchBatch, action: str, details: dict[str, Any] | None = None) -> None:
    record_event(
        session, actor=CUSTODY_ACTOR, action=action, object_type="research_batch", object_id=batch.id, details=details
    )
