"""Erasure (GDPR Art. 17): delete a customer's recordings now, by the sweep's own deletion path.

A recording stays where a legal duty keeps it: on legal hold, or as evidence of an agreement made on the
call while the verification period of the policy table lasts (Art. 17(3)(b) and (e)). Each kept recording
is listed with its reason. The customer's access packages go too: they hold copies of the same audio.
Objects are deleted after the caller commits (`purge_erasure`), as with every deletion.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import ScalarSelect, select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.customers import lock_customer
from recordings_service.db import utcnow
from recordings_service.errors import Conflict
from recordings_service.models import Recording, SubjectRequest
from recordings_service.models.privacy import PackageState, SubjectRequestKind, not_withdrawn
from recordings_service.privacy import ledger
from recordings_service.privacy.deletion import delete_recording, lock_in_id_order, mark_purged, purge_objects
from recordings_service.privacy.holds import is_held
from recordings_service.privacy.package_queue import delete_package_object, queue_again, withdraw_package
from recordings_service.privacy.retention import agreement_evidence_until, load_policies, within_duty
from recordings_service.privacy.subjects import complete, customer_recording_ids, open_request_of
from recordings_service.privacy.sweep import record_receipt
from recordings_service.storage.object_store import ObjectStore

LEGAL_HOLD = "legal_hold"
AGREEMENT_EVIDENCE = "agreement_evidence"


@dataclass(frozen=True)
class Erasure:
    """What an erasure deleted and kept, and the object keys to delete once it has committed."""

    request: SubjectRequest
    deleted: list[str]
    kept: list[dict[str, Any]]
    recording_keys: dict[str, tuple[str, ...]]
    package_keys: list[str]


def erase_customer(
    session: Session, store: ObjectStore, *, actor: Actor, request_id: str, zone: tzinfo, now: datetime
) -> Erasure:
    """Delete every recording of the request's customer that no legal duty keeps (its agreement evidence counted in
    `zone`); write the erasure receipt."""
    started_at = utcnow()
    request = open_request_of(session, actor=actor, request_id=request_id, kind=SubjectRequestKind.ERASURE)
    policies = load_policies(session)
    deleted: list[str] = []
    kept: list[dict[str, Any]] = []
    keys: dict[str, tuple[str, ...]] = {}
    counts: Counter[str] = Counter()
    # Before listing the calls: an ingest of the customer's call (which share-locks the row) then either committed
    # first, and its call is listed, or waits and finds the erasure carried out (`erasure_covering`).
    lock_customer(session, request.customer_id)
    recording_ids = customer_recording_ids(session, request.customer_id)
    # Every call locked, in id order, before the first deletion writes its event (which locks the audit chain's head
    # to the commit): a comment or score being written on a later call holds that call and then writes its event,
    # and locked one by one between deletions, the two waited on each other (a deadlock on PostgreSQL).
    lock_in_id_order(session, recording_ids)
    for recording_id in recording_ids:
        recording = session.get_one(Recording, recording_id)
        evidence_until = agreement_evidence_until(recording, policies=policies, zone=zone, now=now)
        reason = kept_because(session, recording, evidence_until=evidence_until)
        if reason is not None:
            kept.append({"recording_id": recording.id, **reason})
            if not recording.erasure_kept:  # a sync job's copy learns it is withheld (`withheld_feed`)
                recording.withheld_changed_at = utcnow()
            recording.erasure_kept = True  # for that duty only, and for compliance only (`visible_to`)
            # Kept for that duty only: once it ends (the hold released, the agreement period over) the sweep
            # deletes the call, not its other purposes' periods a year or more later.
            recording.retain_until = within_duty(recording.retain_until, evidence_until, now=now)
            continue
        deletion = delete_recording(
            session, store, recording_id=recording.id, reason="erasure", actor=actor, now=now, erasure_id=request.id
        )
        if deletion is not None:
            deleted.append(recording.id)
            keys[recording.id] = deletion.keys
            counts.update(deletion.counts)
    package_keys, rebuilt = _withdraw_packages(session, actor=actor, customer_id=request.customer_id)
    receipt = record_receipt(
        session,
        actor=actor,
        kind="erasure",
        started_at=started_at,
        finished_at=utcnow(),
        deleted_ids=deleted,
        counts={"recordings": len(deleted), "kept": len(kept), "access_packages": len(package_keys), **counts},
    )
    complete(request, now=now, outcome={"deleted": deleted, "kept": kept, "receipt_id": receipt.id})
    session.flush()
    # The request's own event: the receipt's names no request, and an erasure that kept every call deletes none.
    record_event(
        session,
        actor=actor,
        action="subject_request.erased",
        object_type="subject_request",
        object_id=request.id,
        details={
            "customer_id": request.customer_id,
            "recordings": len(deleted),
            # The kept calls by reason (the outcome names each).
            "kept_on_legal_hold": sum(item["reason"] == LEGAL_HOLD for item in kept),
            "kept_as_agreement_evidence": sum(item["reason"] == AGREEMENT_EVIDENCE for item in kept),
            "access_packages": len(package_keys),
            "access_packages_rebuilt": len(rebuilt),
            "receipt_id": receipt.id,
        },
    )
    return Erasure(request=request, deleted=deleted, kept=kept, recording_keys=keys, package_keys=package_keys)


def erasure_covering(customer_id: str, started_at: datetime) -> ScalarSelect[str]:
    """The id of the customer's erasure carried out after a call that started at `started_at` (the first, as
    `retention.erasures_keeping` names it later), or NULL: a call made before it is one the erasure covers, though
    stored only now (a backfill of an old archive)."""
    return (
        select(SubjectRequest.id)
        .where(
            SubjectRequest.customer_id == customer_id,
            SubjectRequest.kind == SubjectRequestKind.ERASURE,
            SubjectRequest.completed_at > started_at,
            not_withdrawn(),
        )
        .order_by(SubjectRequest.completed_at, SubjectRequest.id)
        .limit(1)
        .scalar_subquery()
    )


def kept_because(session: Session, recording: Recording, *, evidence_until: datetime | None) -> dict[str, Any] | None:
    """Why a legal duty keeps the recording from erasure (`reason`, and `until` when it ends), or None;
    `evidence_until` is when it stops being evidence of an agreement (`retention.agreement_evidence_until`)."""
    if is_held(session, recording):
        return {"reason": LEGAL_HOLD, "until": None}
    if evidence_until is not None:
        return {"reason": AGREEMENT_EVIDENCE, "until": evidence_until.isoformat()}
    return None


def purge_erasure(session: Session, store: ObjectStore, erasure: Erasure, *, now: datetime) -> int:
    """After the erasure committed: delete every version of its objects; returns how many went."""
    removed = _purge_recordings(session, store, erasure.recording_keys, now=now)
    removed += sum(delete_package_object(store, key) for key in erasure.package_keys)
    for request in session.scalars(select(SubjectRequest).where(SubjectRequest.package_key.in_(erasure.package_keys))):
        request.package_key = None
    session.flush()
    return removed


@dataclass(frozen=True)
class Replayed:
    """What a replay of the deletion ledger deleted again (with the object keys to purge once it committed), and
    the recordings a legal hold in this database kept."""

    deleted: dict[str, tuple[str, ...]]
    held: list[str]
    entries: int


def replay_deletions(session: Session, store: ObjectStore, *, actor: Actor, now: datetime) -> Replayed:
    """After a restore: delete again, in the caller's transaction and by the same path, every recording the store's
    deletion ledger names that this database holds undeleted (erased, or swept, after the backup was taken). One on
    legal hold here is left for compliance to review: never deleted against a hold, even one released since."""
    named, entries = ledger.recorded_deletions(store)
    deleted: dict[str, tuple[str, ...]] = {}
    held: list[str] = []
    for recording_id in ledger.undeleted(session, sorted(named)):
        try:
            deletion = delete_recording(
                session, store, recording_id=recording_id, reason=named[recording_id], actor=actor, now=now
            )
        except Conflict:
            held.append(recording_id)
            continue
        if deletion is not None:
            deleted[recording_id] = deletion.keys
    if deleted or held:
        record_event(
            session,
            actor=actor,
            action="retention.deletions_replayed",
            details={"recordings": len(deleted), "held": len(held), "ledger_entries": entries},
        )
    return Replayed(deleted=deleted, held=held, entries=entries)


def purge_replayed(session: Session, store: ObjectStore, replayed: Replayed, *, now: datetime) -> int:
    """After the replay committed: delete every version of its objects (a restore may have put them back)."""
    return _purge_recordings(session, store, replayed.deleted, now=now)


def _purge_recordings(
    session: Session, store: ObjectStore, keys_by_recording: dict[str, tuple[str, ...]], *, now: datetime
) -> int:
    """Delete every version of the deleted recordings' object keys, then mark them purged; how many went."""
    removed = sum(purge_objects(store, keys) for keys in keys_by_recording.values())
    mark_purged(session, store, list(keys_by_recording), now=now)
    return removed


def _withdraw_packages(session: Session, *, actor: Actor, customer_id: str) -> tuple[list[str], list[str]]:
    """Withdraw the customer's access packages: a ready one (its key returned, to purge), and one still queued or
    being built, whose request is not answered yet, is built anew from what the erasure kept (its request's id
    returned). That one was withdrawn too, and its request, which neither a package nor a new fulfilment could
    answer any more, stayed open until it was overdue."""
    keys: list[str] = []
    rebuilt: list[str] = []
    requests = session.scalars(
        select(SubjectRequest)
        .where(
            SubjectRequest.customer_id == customer_id,
            SubjectRequest.package_state.in_([PackageState.QUEUED, PackageState.BUILDING, PackageState.READY]),
        )
        .order_by(SubjectRequest.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    for request in requests:
        if request.open and request.package_state != PackageState.READY:
            # Its builder (which may have copied erased calls) loses the lease; an object it uploaded is a version
            # without a data key, deleted with the package's others once the package goes.
            queue_again(session, request, actor=actor, reason="erasure")
            rebuilt.append(request.id)
            continue
        key = withdraw_package(request)
        if key is not None:
            keys.append(key)
    return keys, rebuilt
