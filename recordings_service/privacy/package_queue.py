"""Access packages as leased work: queue on fulfilment, claim, renew, finish or fail, expire after 7 days.

Claims, renewals and finishing are leased (`leases.py`). A
package is downloadable for 7 days; then it is marked expired, that commits, and every version of its
object is deleted (a crash in between leaves `package_key` set, so the next run deletes it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, literal, or_, select, update
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.db import utcnow
from recordings_service.errors import Conflict, Refusal
from recordings_service.leases import Lease
from recordings_service.models import SubjectRequest
from recordings_service.models.privacy import PackageState, SubjectRequestKind
from recordings_service.privacy.access_package import PackageContents, SealedPackage
from recordings_service.privacy.subjects import complete, get_request, refused
from recordings_service.storage.encryption import Envelope, PlaintextReader
from recordings_service.storage.object_store import ObjectStore

VALID_FOR = timedelta(days=7)
MAX_ATTEMPTS = 3
# After a failed attempt, how long until the next (by the attempt that failed): the three attempts came within a
# second, and an object store down for a minute failed a subject's package for good.
RETRY_AFTER = {1: timedelta(minutes=1), 2: timedelta(minutes=5)}
MAX_ERROR_CHARS = 2000
RETRYABLE = {None, PackageState.FAILED}
# Packages whose object, if any is left, is to be deleted.
GONE = [PackageState.EXPIRED, PackageState.FAILED, PackageState.WITHDRAWN]
LEASE = Lease(
    SubjectRequest.id,
    SubjectRequest.package_state,  # type: ignore[arg-type]  # NULL for requests of other kinds, never leased
    SubjectRequest.lease_owner,
    SubjectRequest.lease_expires_at,
    SubjectRequest.package_attempts,
    running=PackageState.BUILDING,
)


class PackageLeaseLost(Conflict):
    """Another worker holds the build now, or the package was withdrawn; this worker's result is dropped."""

    code = "lease_lost"


@dataclass(frozen=True)
class ClaimedPackage:
    request_id: str
    attempt: int
    owner: str


def request_package(session: Session, *, actor: Actor, request_id: str) -> SubjectRequest:
    """Queue the build of an access request's package (the jobs process builds it); again after a failure."""
    request = get_request(session, request_id, lock=True)
    if request.kind != SubjectRequestKind.ACCESS:
        raise Conflict(
            f"subject request {request_id} is a request for {request.kind}, not access",
            why="other_kind",
            refusal=refused(actor, request, "fulfil", "other_kind"),
        )
    if request.package_state not in RETRYABLE:
        # package_queued, package_building, package_ready, package_expired or package_withdrawn
        why = f"package_{request.package_state}"
        raise Conflict(
            f"the package of subject request {request_id} is {request.package_state} already",
            why=why,
            refusal=refused(actor, request, "fulfil", why),
        )
    if not request.open:
        # Withdrawn before any package was asked for (registered for the wrong customer, say): a package now was that
        # customer's calls packaged for download.
        raise Conflict(
            f"subject request {request_id} is closed",
            why="request_closed",
            refusal=refused(actor, request, "fulfil", "request_closed"),
        )
    request.package_state = PackageState.QUEUED
    request.package_attempts = 0
    request.package_error = None
    session.flush()
    record_event(
        session,
        actor=actor,
        action="subject_access.requested",
        object_type="subject_request",
        object_id=request.id,
        details={"customer_id": request.customer_id, "chargeable": request.chargeable},
    )
    return request


def claim_package(
    session: Session, *, owner: str, lease_s: float, now: datetime | None = None
) -> ClaimedPackage | None:
    """Lease the oldest queued package (or one whose builder's lease expired) to `owner`."""
    now = now or utcnow()
    _fail_abandoned(session, now=now)
    # A queued package's lease expiry is the time before which a failed build is not tried again (`fail_package`).
    waited = or_(SubjectRequest.lease_expires_at.is_(None), SubjectRequest.lease_expires_at <= now)
    row = LEASE.claim(
        session,
        due=or_(and_(SubjectRequest.package_state == PackageState.QUEUED, waited), LEASE.expired(now)),
        order_by=[SubjectRequest.received_at],
        owner=owner,
        lease_s=lease_s,
        now=now,
        # Named before the upload, so whatever happens next, cleanup knows the key to delete.
        values={"package_key": literal("subject-access/") + SubjectRequest.id + literal("/package.zip")},
        returning=[SubjectRequest.id, SubjectRequest.package_attempts],
    )
    if row is None:
        return None
    session.flush()
    return ClaimedPackage(request_id=row.id, attempt=row.package_attempts, owner=owner)


def renew_package_lease(session: Session, *, claim: ClaimedPackage, lease_s: float) -> None:
    """Extend the lease; `PackageLeaseLost` when another worker has taken the build or it was withdrawn."""
    if not _update_held(session, claim, {"lease_expires_at": utcnow() + timedelta(seconds=lease_s)}):
        raise PackageLeaseLost(f"the package of subject request {claim.request_id} is no longer leased to this worker")


def finish_package(
    session: Session,
    *,
    claim: ClaimedPackage,
    sealed: SealedPackage,
    contents: PackageContents,
    actor: Actor,
    now: datetime | None = None,
) -> SubjectRequest:
    """Make the package downloadable for 7 days, if the lease is still held; audit what went into it."""
    now = now or utcnow()
    request = session.scalars(
        select(SubjectRequest).where(_held_by(claim)).with_for_update().execution_options(populate_existing=True)
    ).first()
    if request is None:
        raise PackageLeaseLost(f"the package of subject request {claim.request_id} is no longer leased to this worker")
    request.package_state = PackageState.READY
    request.package_key = sealed.key
    request.package_sha256 = sealed.sha256
    request.package_size = sealed.size
    request.package_wrapped_key = sealed.wrapped.wrapped
    request.package_master_key_id = sealed.wrapped.master_key_id
    request.package_ready_at = now
    request.package_expires_at = now + VALID_FOR
    request.lease_owner = request.lease_expires_at = None
    complete(
        request,
        now=request.completed_at or now,
        outcome={
            "recordings": len(contents.recording_ids),
            "files": len(contents.files) + 1,  # and the manifest
            "audio_sha256_mismatches": contents.audio_mismatches,
            "audio_missing": contents.audio_missing,
        },
    )
    session.flush()
    for recording_id in contents.recording_ids:
        record_event(
            session,
            actor=actor,
            action="recording.subject_access_exported",
            object_type="recording",
            object_id=recording_id,
            details={"request_id": request.id, "sha256": contents.files.get(_audio_name(contents, recording_id))},
        )
    record_event(
        session,
        actor=actor,
        action="subject_access.package_built",
        object_type="subject_request",
        object_id=request.id,
        details={"recordings": len(contents.recording_ids), "sha256": sealed.sha256, "size": sealed.size},
    )
    return request


def fail_package(session: Session, *, claim: ClaimedPackage, error: str, now: datetime | None = None) -> str:
    """Record a failed build: queued again while attempts remain, not before `RETRY_AFTER` has passed, else failed
    (fulfil again to retry)."""
    state = PackageState.FAILED if claim.attempt >= MAX_ATTEMPTS else PackageState.QUEUED
    retry_at = (now or utcnow()) + RETRY_AFTER[claim.attempt] if state == PackageState.QUEUED else None
    values = {"package_state": state, "lease_owner": None, "lease_expires_at": retry_at}
    if not _update_held(session, claim, {**values, "package_error": error[:MAX_ERROR_CHARS]}):
        raise PackageLeaseLost(f"the package of subject request {claim.request_id} is no longer leased to this worker")
    return state


def expire_packages(session: Session, *, actor: Actor, now: datetime) -> list[str]:
    """Mark packages past their 7 days expired (their objects are deleted after this commits); returns ids."""
    requests = list(
        session.scalars(
            select(SubjectRequest)
            .where(SubjectRequest.package_state == PackageState.READY, SubjectRequest.package_expires_at <= now)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    for request in requests:
        request.package_state = PackageState.EXPIRED
        forget_package_key(request)
        record_event(
            session, actor=actor, action="subject_access.expired", object_type="subject_request", object_id=request.id
        )
    session.flush()
    return [request.id for request in requests]


def withdraw_package(request: SubjectRequest) -> str | None:
    """Withdraw the request's package, queued, being built or ready: it is neither built on (its builder loses the
    lease) nor downloaded; returns the key its object has, if one was named (purged with the other gone packages')."""
    request.package_state = PackageState.WITHDRAWN
    request.lease_owner = request.lease_expires_at = None
    forget_package_key(request)
    return request.package_key


def build_again(session: Session, *, actor: Actor, customer_id: str, reason: str) -> list[str]:
    """Build the customer's access packages again from what is stored now (a call's original was replaced, say): one
    being built starts over, and a ready one is not served until then; its data key goes, so what was built before
    cannot be read. A queued one is built from what is stored anyway. Returns the requests' ids."""
    requests = session.scalars(
        select(SubjectRequest)
        .where(
            SubjectRequest.customer_id == customer_id,
            SubjectRequest.package_state.in_([PackageState.BUILDING, PackageState.READY]),
        )
        .order_by(SubjectRequest.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    for request in requests:
        queue_again(session, request, actor=actor, reason=reason)
    session.flush()
    return [request.id for request in requests]


def queue_again(session: Session, request: SubjectRequest, *, actor: Actor, reason: str) -> None:
    """Queue the request's package to be built anew from what is stored now (`subject_access.rebuilding`): a builder
    at work on it loses its lease, and its data key goes."""
    request.package_state = PackageState.QUEUED
    request.package_attempts = 0
    request.package_error = None
    request.lease_owner = request.lease_expires_at = None
    forget_package_key(request)
    record_event(
        session,
        actor=actor,
        action="subject_access.rebuilding",
        object_type="subject_request",
        object_id=request.id,
        details={"reason": reason},
    )


def forget_package_key(request: SubjectRequest) -> None:
    """A package that can no longer be downloaded needs no data key: without it the object, and any copy of it the
    store's disks keep after it is deleted (until a compaction) or a backup of the store holds, cannot be read."""
    request.package_wrapped_key = request.package_master_key_id = None


def packages_to_purge(session: Session) -> dict[str, str]:
    """Expired, failed or withdrawn packages whose object may remain: key by request id."""
    rows = session.execute(
        select(SubjectRequest.id, SubjectRequest.package_key).where(
            SubjectRequest.package_state.in_(GONE),
            SubjectRequest.package_key.is_not(None),
        )
    )
    return {request_id: str(key) for request_id, key in rows}


def mark_packages_purged(session: Session, request_ids: list[str]) -> None:
    """Every version of these packages' objects is gone."""
    if request_ids:
        session.execute(
            update(SubjectRequest)
            .where(SubjectRequest.id.in_(request_ids))
            .values(package_key=None)
            .execution_options(synchronize_session=False)
        )


def keep_for_purge(session: Session, *, request_id: str) -> None:
    """A build that lost its lease may have uploaded after the package was withdrawn: name its key for purging."""
    session.execute(
        update(SubjectRequest)
        .where(
            SubjectRequest.id == request_id,
            SubjectRequest.package_state.in_(GONE),
        )
        .values(package_key=literal("subject-access/") + SubjectRequest.id + literal("/package.zip"))
        .execution_options(synchronize_session=False)
    )


def delete_package_object(store: ObjectStore, key: str) -> int:
    """Delete every version of a package's object; returns how many went."""
    # A build that failed before its upload left nothing; deleting would only add a delete marker.
    if not any(version.key == key for version in store.list_versions(key)):
        return 0
    return store.delete(key)


def open_package(
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    *,
    actor: Actor,
    request_id: str,
    now: datetime | None = None,
) -> tuple[SubjectRequest, PlaintextReader]:
    """The package decrypting as it is read, while it is valid; audited `subject_access.downloaded`, and a refused
    download `subject_access.download_refused` (a copy of a customer's calls asked for after it expired or was
    withdrawn is compliance's business, as a refused research download is)."""
    now = now or utcnow()
    request = get_request(session, request_id)

    def refused(rule: str) -> Refusal:
        return Refusal(actor, "subject_access.download_refused", "subject_request", request.id, {"rule": rule})

    if request.kind != SubjectRequestKind.ACCESS:
        raise Conflict(
            f"subject request {request_id} is a request for {request.kind}, not access",
            why="other_kind",
            refusal=refused("other_kind"),
        )
    expired = request.package_expires_at is not None and request.package_expires_at <= now
    if (
        request.package_state != PackageState.READY
        or request.package_key is None
        or request.package_wrapped_key is None
        or expired
    ):
        rule = "expired" if expired else str(request.package_state or "none")
        # The rule in words: "(None)" was said of a request whose package was never asked for.
        said = "not requested: fulfil the request first" if rule == "none" else rule
        raise Conflict(
            f"the package of subject request {request_id} is not available ({said})",
            why="package_unavailable",
            refusal=refused(rule),
        )
    record_event(
        session,
        actor=actor,
        action="subject_access.downloaded",
        object_type="subject_request",
        object_id=request.id,
        details={"sha256": request.package_sha256, "size": request.package_size},
    )
    reader = envelope.decrypting_stream(
        store.get(request.package_key), wrapped=request.package_wrapped_key, object_id=request.id
    )
    return request, reader


def _audio_name(contents: PackageContents, recording_id: str) -> str:
    prefix = f"recordings/{recording_id}/audio."
    return next((name for name in contents.files if name.startswith(prefix)), prefix)


def _held_by(claim: ClaimedPackage) -> ColumnElement[bool]:
    return LEASE.held_by(item_id=claim.request_id, owner=claim.owner, attempt=claim.attempt)


def _update_held(session: Session, claim: ClaimedPackage, values: Mapping[str, object]) -> bool:
    return LEASE.update_held(session, item_id=claim.request_id, owner=claim.owner, attempt=claim.attempt, values=values)


def _fail_abandoned(session: Session, *, now: datetime) -> None:
    """Builds whose workers died on every attempt fail instead of looping."""
    session.execute(
        update(SubjectRequest)
        .where(LEASE.abandoned(now, max_attempts=MAX_ATTEMPTS))
        .values(
            package_state=PackageState.FAILED,
            lease_owner=None,
            lease_expires_at=None,
            package_error=f"the worker stopped (crash or kill) during each of {MAX_ATTEMPTS} attempts",
        )
        .execution_options(synchronize_session=False)
    )
