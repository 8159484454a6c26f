"""Research package builds as leased work: claim an approved batch, renew, record each item, finish or fail.

Claims work like transcription's (`transcription/queue.py`): one conditional UPDATE whose inner SELECT takes
the row `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite has one writer at a time), so two builders never hold
one batch; a dead builder stops renewing and its batch is claimed again once the lease expires. Every write
a builder makes (an item's hash or withdrawal, progress, the finished package) is conditional on still
holding the lease, so a builder that lost it changes nothing. A build failing three times stays `approved`
with its error until a compliance user retries it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, func, literal, or_, select, update
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.db import utcnow
from recordings_service.errors import Conflict, Refusal
from recordings_service.leases import Lease
from recordings_service.models import BatchItem, ResearchBatch
from recordings_service.models.research import BatchState, ClosedReason
from recordings_service.research.batches import get_batch
from recordings_service.research.lifecycle import PACKAGE_BUILT, close_batch, ever_downloaded, was_downloaded
from recordings_service.research.selection import items_excluded_since_built
from recordings_service.storage.encryption import WrappedKey

MAX_ATTEMPTS = 3
MAX_ERROR_CHARS = 2000
# States in which another builder may be writing or has written the batch's live package.
LIVE_BUILD = (BatchState.APPROVED, BatchState.BUILDING, BatchState.READY)
LEASE = Lease(
    ResearchBatch.id,
    ResearchBatch.state,
    ResearchBatch.lease_owner,
    ResearchBatch.lease_expires_at,
    ResearchBatch.build_attempts,
    running=BatchState.BUILDING,
)


class BuildLeaseLost(Conflict):
    """Another builder holds the batch now, or it left `building`; this builder's work is dropped."""

    code = "lease_lost"


@dataclass(frozen=True)
class ClaimedBuild:
    batch_id: str
    attempt: int
    owner: str


@dataclass(frozen=True)
class SealedPackage:
    """A written, encrypted and uploaded package: its key, and the hash and size of the ZIP the partner gets."""

    key: str
    sha256: str
    size: int
    wrapped: WrappedKey


def package_key(batch_id: str) -> str:
    return f"exports/{batch_id}/package.zip"


def claim_build(session: Session, *, owner: str, lease_s: float, now: datetime | None = None) -> ClaimedBuild | None:
    """Lease the longest-approved batch waiting for its package (or one whose builder's lease expired)."""
    now = now or utcnow()
    _fail_abandoned(session, now=now)
    row = LEASE.claim(
        session,
        due=or_(
            and_(ResearchBatch.state == BatchState.APPROVED, ResearchBatch.build_error.is_(None)), LEASE.expired(now)
        ),
        order_by=[ResearchBatch.approved_at, ResearchBatch.id],
        owner=owner,
        lease_s=lease_s,
        now=now,
        # Named before the upload, so whatever happens next, expiry knows the key to delete.
        values={"build_done": 0, "package_key": literal("exports/") + ResearchBatch.id + literal("/package.zip")},
        returning=[ResearchBatch.id, ResearchBatch.build_attempts],
    )
    if row is None:
        return None
    session.flush()
    return ClaimedBuild(batch_id=row.id, attempt=row.build_attempts, owner=owner)


def renew_build_lease(session: Session, *, claim: ClaimedBuild, lease_s: float, done: int | None = None) -> None:
    """Extend the lease (and record `done` items written); `BuildLeaseLost` when it is no longer held."""
    values: dict[str, object] = {"lease_expires_at": utcnow() + timedelta(seconds=lease_s)}
    if done is not None:
        values["build_done"] = done
    if not LEASE.update_held(session, item_id=claim.batch_id, owner=claim.owner, attempt=claim.attempt, values=values):
        raise BuildLeaseLost(f"research batch {claim.batch_id} is no longer leased to this builder")


def record_items(
    session: Session,
    *,
    claim: ClaimedBuild,
    done: int,
    lease_s: float,
    written: Mapping[str, str] | None = None,
    withdrawn: Mapping[str, str] | None = None,
) -> None:
    """Items written (item id to its audio's SHA-256) or withdrawn (item id to why), with the progress and the
    lease renewed; `BuildLeaseLost` (and nothing recorded) when the lease is no longer held."""
    renew_build_lease(session, claim=claim, lease_s=lease_s, done=done)
    changes = [(item_id, {"audio_sha256": sha256}) for item_id, sha256 in (written or {}).items()]
    changes += [(item_id, {"withdrawn_reason": reason}) for item_id, reason in (withdrawn or {}).items()]
    for item_id, values in changes:
        session.execute(
            update(BatchItem)
            .where(BatchItem.id == item_id, BatchItem.batch_id == claim.batch_id)
            .values(values)
            .execution_options(synchronize_session=False)
        )
    if withdrawn:
        session.execute(
            update(ResearchBatch)
            .where(ResearchBatch.id == claim.batch_id)
            .values(items_withdrawn=_withdrawn_count(claim.batch_id).scalar_subquery())
            .execution_options(synchronize_session=False)
        )


def finish_build(
    session: Session, *, claim: ClaimedBuild, sealed: SealedPackage, actor: Actor, now: datetime | None = None
) -> ResearchBatch:
    """Make the package ready, if the lease is still held; audit each exported recording and the package. A package
    with no call closes the batch instead (`close_empty`)."""
    now = now or utcnow()
    batch = session.scalars(
        select(ResearchBatch).where(_held_by(claim)).with_for_update().execution_options(populate_existing=True)
    ).first()
    if batch is None:
        raise BuildLeaseLost(f"research batch {claim.batch_id} is no longer leased to this builder")
    exported = list(
        session.execute(
            select(BatchItem.recording_id, BatchItem.audio_sha256)
            .where(BatchItem.batch_id == batch.id, BatchItem.withdrawn_reason.is_(None))
            .order_by(BatchItem.position)
        )
    )
    if not exported:
        return close_empty(session, batch=batch, actor=actor, now=now)
    batch.state = BatchState.READY
    batch.package_key = sealed.key
    batch.package_sha256 = sealed.sha256
    batch.package_size = sealed.size
    batch.package_wrapped_key = sealed.wrapped.wrapped
    batch.package_master_key_id = sealed.wrapped.master_key_id
    # A rebuild (`requeue_outdated`) keeps the first build's time: copies have existed since then, and a
    # confirmation of their return or destruction is checked against it.
    batch.built_at = batch.built_at or now
    batch.build_done = batch.selected  # every item written or withdrawn
    batch.build_error = None
    batch.items_withdrawn = session.scalar(_withdrawn_count(batch.id)) or 0
    batch.lease_owner = batch.lease_expires_at = None
    session.flush()
    for recording_id, audio_sha256 in exported:
        record_event(
            session,
            actor=actor,
            action="recording.research_exported",
            object_type="recording",
            object_id=recording_id,
            details={"batch_id": batch.id, "audio_sha256": audio_sha256},
        )
    record_event(
        session,
        actor=actor,
        action=PACKAGE_BUILT,
        object_type="research_batch",
        object_id=batch.id,
        details={
            "calls": len(exported),
            "withdrawn": batch.items_withdrawn,
            "sha256": sealed.sha256,
            "size": sealed.size,
            "attempt": claim.attempt,
        },
    )
    return batch


def close_empty(session: Session, *, batch: ResearchBatch, actor: Actor, now: datetime) -> ResearchBatch:
    """Close a batch whose build ended with every call withdrawn (`all_withdrawn`), its pseudonym key destroyed; the
    expiry job purges its package's objects as any closed batch's (`lifecycle.batches_to_purge`). Only a package
    nothing was downloaded of is built (again), so the institute holds nothing and owes nothing.

    Before, the batch became ready with no call: an empty ZIP was offered, and downloading it made the institute
    owe a confirmation of the return or destruction of nothing."""
    batch.build_done = batch.selected
    batch.build_error = None
    batch.items_withdrawn = session.scalar(_withdrawn_count(batch.id)) or 0
    batch.lease_owner = batch.lease_expires_at = None
    details = {"withdrawn": batch.items_withdrawn}
    close_batch(session, batch, ClosedReason.ALL_WITHDRAWN, actor=actor, at=now, details=details)
    return batch


def fail_build(session: Session, *, claim: ClaimedBuild, error: str) -> str:
    """Record a failed build: back to `approved` for another attempt, or after the last one with its error
    kept (not claimed again until `retry_build`). Returns "retrying" or "failed"."""
    final = claim.attempt >= MAX_ATTEMPTS
    values = {"state": BatchState.APPROVED, "lease_owner": None, "lease_expires_at": None}
    if not LEASE.update_held(
        session,
        item_id=claim.batch_id,
        owner=claim.owner,
        attempt=claim.attempt,
        values={**values, "build_error": error[:MAX_ERROR_CHARS] if final else None},
    ):
        raise BuildLeaseLost(f"research batch {claim.batch_id} is no longer leased to this builder")
    return "failed" if final else "retrying"


def requeue_outdated(session: Session, *, actor: Actor, now: datetime | None = None) -> list[str]:
    """Ready packages nothing was downloaded from yet that hold a call which may no longer go to research (its
    customer objected since, say) go back to `approved`, to be built again without it; their download is refused
    meanwhile (`portal`). Returns their ids.

    One downloaded already is left as it is: the institute holds the call, and the item stays in custody, where an
    erasure flags it and an objection shows (`follow_ups.objections_to_pass_on`) for follow-up. The new package has
    a new data key, so the old one's stored versions can no longer be decrypted."""
    now = now or utcnow()
    query = select(ResearchBatch.id).where(
        ResearchBatch.state == BatchState.READY, ResearchBatch.access_end > now, ~ever_downloaded()
    )
    requeued = []
    for batch_id in session.scalars(query.order_by(ResearchBatch.id)).all():
        batch = session.get_one(ResearchBatch, batch_id)
        if not items_excluded_since_built(session, batch):
            continue
        session.refresh(batch, with_for_update=True)
        # Asked again now the row is locked: a download answered while this job waited for the lock counts.
        if batch.state != BatchState.READY or was_downloaded(session, batch.id):
            continue
        outdated = items_excluded_since_built(session, batch)
        _build_again(session, actor=actor, batch=batch, details={"calls_excluded": outdated})
        requeued.append(batch.id)
    session.flush()
    return requeued


@dataclass(frozen=True)
class RedactedAgain:
    rebuilt: list[str]  # batches whose package is built again
    held: list[str]  # batches whose institute may hold the package as it was


def requeue_redacted_again(session: Session, *, actor: Actor, recording_id: str) -> RedactedAgain:
    """The call's redacted transcript came out different (`callvault redaction refresh`): a ready package holding it
    that nothing was downloaded from yet is built again (its download refused meanwhile), as for an excluded call;
    so is one being built now, whose builder may have read the old text (it loses its lease and its work is
    dropped). One its institute may hold already, or holds until it confirms return or destruction, keeps what it
    had: its trail says so (`research.package_redaction_outdated`) for compliance to ask for the new package's text."""
    rebuilt, held, now = [], [], utcnow()
    query = (
        select(ResearchBatch)
        .join(BatchItem, BatchItem.batch_id == ResearchBatch.id)
        .where(
            BatchItem.recording_id == recording_id,
            BatchItem.withdrawn_reason.is_(None),
            ResearchBatch.state.in_([BatchState.BUILDING, BatchState.READY, BatchState.EXPIRED, BatchState.OVERDUE]),
        )
        .order_by(ResearchBatch.id)
    )
    for batch in session.scalars(query.with_for_update(of=ResearchBatch).execution_options(populate_existing=True)):
        if was_downloaded(session, batch.id):
            record_event(
                session,
                actor=actor,
                action="research.package_redaction_outdated",
                object_type="research_batch",
                object_id=batch.id,
                details={"recording": recording_id},
            )
            held.append(batch.id)
        elif batch.state == BatchState.BUILDING or (batch.state == BatchState.READY and batch.access_end > now):
            _build_again(session, actor=actor, batch=batch, details={"call_redacted_again": recording_id})
            rebuilt.append(batch.id)
    session.flush()
    return RedactedAgain(rebuilt=rebuilt, held=held)


def _build_again(session: Session, *, actor: Actor, batch: ResearchBatch, details: dict[str, object]) -> None:
    """Send a ready (or building) batch back to be built; its package is not served until then."""
    batch.state = BatchState.APPROVED
    batch.build_attempts = batch.build_done = 0
    batch.build_error = None
    batch.lease_owner = batch.lease_expires_at = None
    record_event(
        session,
        actor=actor,
        action="research.package_outdated",
        object_type="research_batch",
        object_id=batch.id,
        details=details,
    )


def retry_build(session: Session, *, actor: Actor, batch_id: str) -> ResearchBatch:
    """Queue a build that failed on every attempt again; `Conflict` unless the batch is approved with an error."""
    batch = get_batch(session, batch_id, lock=True)
    if batch.state != BatchState.APPROVED or batch.build_error is None:
        # On the batch's trail as every other refused decision on it (a stale page's button, a second officer).
        raise Conflict(
            f"research batch {batch_id} is {batch.state}; only a build that failed can be retried",
            why="build_not_failed",
            refusal=Refusal(actor, "research.build_retry_refused", "research_batch", batch.id, {"rule": "not_failed"}),
        )
    batch.build_attempts = 0
    batch.build_error = None
    batch.build_done = 0
    session.flush()
    record_event(
        session, actor=actor, action="research.build_retried", object_type="research_batch", object_id=batch.id
    )
    return batch


def keep_for_purge(session: Session, *, batch_id: str) -> None:
    """A builder that lost its lease may have uploaded after the batch's package was purged (its window
    ended, or it was closed): have the expiry job purge `exports/<batch>/` again."""
    session.execute(
        update(ResearchBatch)
        .where(ResearchBatch.id == batch_id, ResearchBatch.state.not_in(LIVE_BUILD))
        .values(package_purged_at=None)
        .execution_options(synchronize_session=False)
    )


def _held_by(claim: ClaimedBuild) -> ColumnElement[bool]:
    return LEASE.held_by(item_id=claim.batch_id, owner=claim.owner, attempt=claim.attempt)


def _withdrawn_count(batch_id: str) -> Select[int]:
    return (
        select(func.count())
        .select_from(BatchItem)
        .where(BatchItem.batch_id == batch_id, BatchItem.withdrawn_reason.is_not(None))
    )


def _fail_abandoned(session: Session, *, now: datetime) -> None:
    """Builds whose builders died on every attempt stop with an error instead of looping."""
    session.execute(
        update(ResearchBatch)
        .where(LEASE.abandoned(now, max_attempts=MAX_ATTEMPTS))
        .values(
            state=BatchState.APPROVED,
            lease_owner=None,
            lease_expires_at=None,
            build_error=f"the builder stopped (crash or kill) during each of {MAX_ATTEMPTS} attempts",
        )
        .execution_options(synchronize_session=False)
    )
