"""Access packages: build the queued ones (leased, so any number of jobs processes may run), expire old ones.

A build claims its request (commit), reads one recording per short transaction while the ZIP streams to a
private temporary file, renews its lease between recordings, seals and uploads the package, and finishes
under the lease (commit): so no transaction or lock is held while audio is copied. Expiry marks packages
past their 7 days (commit), then deletes every version of their objects and records that (commit).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

from jobs.leases import BUILD_OUTCOMES, work_through
from recordings_service.audit import Actor
from recordings_service.db import utcnow
from recordings_service.errors import DomainError
from recordings_service.models import SubjectRequest
from recordings_service.models.account import Role
from recordings_service.privacy.access_history import subject_history
from recordings_service.privacy.access_package import (
    PackageEntry,
    package_entry,
    package_recipients,
    package_recording_ids,
    seal_package,
    write_package,
)
from recordings_service.privacy.package_queue import (
    ClaimedPackage,
    PackageLeaseLost,
    claim_package,
    delete_package_object,
    expire_packages,
    fail_package,
    finish_package,
    keep_for_purge,
    mark_packages_purged,
    packages_to_purge,
    renew_package_lease,
)
from recordings_service.runtime import Runtime
from recordings_service.storage.spool import scratch_dir, spool_dir

log = logging.getLogger("jobs.subject_access")
SUBJECT_ACCESS_ACTOR = Actor(id=None, name="subject-access", role=Role.COMPLIANCE)
LEASE_S = 300.0
BUDGET_S = 300.0


def build_packages(runtime: Runtime, *, budget_s: float = BUDGET_S, lease_s: float = LEASE_S) -> None:
    """Build queued packages one at a time until none is left or the time budget is spent."""
    work_through(
        runtime,
        claim=lambda session, owner: claim_package(session, owner=owner, lease_s=lease_s),
        work=lambda claim: build_one(runtime, claim, lease_s=lease_s),
        budget_s=budget_s,
        outcomes=BUILD_OUTCOMES,
        log=log,
        summary="subject access packages",
    )


def build_one(runtime: Runtime, claim: ClaimedPackage, *, lease_s: float = LEASE_S) -> str:
    """Build, seal and publish one claimed package; returns the outcome counted in the run's log line."""
    started = time.monotonic()
    try:
        # Private (0700) and on the data disk: a package can be as large as all of a customer's calls.
        with scratch_dir("subject-access", parent=spool_dir(runtime.settings)) as work_dir:
            plaintext = work_dir / "package.zip"
            with runtime.sessions() as session:
                request = session.get_one(SubjectRequest, claim.request_id)
                customer = request.customer
                ids = package_recording_ids(session, customer_ref=customer.customer_ref)
                recipients = package_recipients(session, customer_id=customer.id)
                history = subject_history(session, customer_id=customer.id, request_id=request.id)
            with plaintext.open("wb") as destination:
                contents = write_package(
                    runtime.store,
                    runtime.envelope,
                    request=request,
                    customer=customer,
                    recipients=recipients,
                    history=history,
                    entries=_entries(runtime, ids, customer_id=customer.id),
                    destination=destination,
                    zone=runtime.settings.zone,
                    on_recording=_lease_keeper(runtime, claim, lease_s=lease_s),
                )
            with runtime.sessions() as session:
                renew_package_lease(session, claim=claim, lease_s=lease_s)  # still ours before the upload
                session.commit()
            sealed = seal_package(
                runtime.store, runtime.envelope, request_id=claim.request_id, plaintext=plaintext, work_dir=work_dir
            )
        with runtime.sessions() as session:
            finish_package(session, claim=claim, sealed=sealed, contents=contents, actor=SUBJECT_ACCESS_ACTOR)
            session.commit()
    except PackageLeaseLost:
        log.warning("package lease lost", extra={"request": claim.request_id})
        with runtime.sessions() as session:
            keep_for_purge(session, request_id=claim.request_id)
            session.commit()
        return "lease_lost"
    except Exception as exc:
        reason = exc.message if isinstance(exc, DomainError) else type(exc).__name__
        log.warning(
            "package build failed", extra={"request": claim.request_id, "attempt": claim.attempt}, exc_info=True
        )
        with runtime.sessions() as session:
            try:
                state = fail_package(session, claim=claim, error=reason)
                session.commit()
            except PackageLeaseLost:
                return "lease_lost"
        return "failed" if state == "failed" else "retrying"
    log.info(
        "package built",
        extra={
            "request": claim.request_id,
            "recordings": len(contents.recording_ids),
            "size": sealed.size,
            "wall_s": round(time.monotonic() - started, 2),
        },
    )
    return "built"


def expire_old_packages(runtime: Runtime) -> None:
    """Expire packages past their 7 days, then delete every version of expired, failed or withdrawn ones."""
    with runtime.sessions() as session:
        expired = expire_packages(session, actor=SUBJECT_ACCESS_ACTOR, now=utcnow())
        session.commit()
    with runtime.sessions() as session:
        pending = packages_to_purge(session)
    purged: list[str] = []
    versions = 0
    for request_id, key in pending.items():
        try:
            versions += delete_package_object(runtime.store, key)
        except Exception:
            log.warning("package not deleted yet", extra={"request": request_id}, exc_info=True)
            continue
        purged.append(request_id)
    if purged:
        with runtime.sessions() as session:
            mark_packages_purged(session, purged)
            session.commit()
    if expired or purged:
        log.info("subject access expiry", extra={"expired": len(expired), "purged": len(purged), "versions": versions})


def _entries(runtime: Runtime, recording_ids: list[str], *, customer_id: str) -> Iterator[PackageEntry]:
    """One recording at a time, each read in its own short transaction."""
    for recording_id in recording_ids:
        with runtime.sessions() as session:
            entry = package_entry(
                session, recording_id=recording_id, customer_id=customer_id, zone=runtime.settings.zone
            )
        if entry is not None:
            yield entry


def _lease_keeper(runtime: Runtime, claim: ClaimedPackage, *, lease_s: float) -> Callable[[int], None]:
    """Renew the lease at most every third of it, between recordings."""
    last = time.monotonic()

    def on_recording(_done: int) -> None:
        nonlocal last
        if time.monotonic() - last < lease_s / 3:
            return
        with runtime.sessions() as session:
            renew_package_lease(session, claim=claim, lease_s=lease_s)
            session.commit()
        last = time.monotonic()

    return on_recording
