"""The privacy ledger: deletions and objections are also written to the object store, so that they outlive a restore.

A database restored from a backup taken before an erasure holds the erased calls again (their rows, transcripts
and wrapped data keys), and one taken before an objection (GDPR Art. 21) lets the customer's calls be selected for
research again; the store, which a database restore leaves as it is, keeps what happened since:

- `ledger/deletions/`: once a deletion's objects are purged, before its tombstones say so (`deletion.mark_purged`),
  the deleted recordings' ids, reasons and times; after a restore `erasure.replay_deletions` deletes again each one
  the database holds undeleted.
- `ledger/objections/`: once an objection has committed (`fulfilment.after_commit`), the customer's id and flags as
  they then stood; `replay_objections` sets each customer the ledger names to their newest entry, when it is newer
  than what the database knows.
- `ledger/holds/`: once a legal hold's placement or release has committed, the hold as it then stood
  (`hold_ledger`; its reasons, staff text, sealed by the master key).
- `ledger/restrictions/`: once a restriction (Art. 18) was put in force or lifted, the request's ids and times
  (`restriction_ledger`).

Ids, reasons, flags and times only: nothing personal in the clear. Each entry is an object named by a new id, so the
ledger lists in the order it was written.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.db import new_id
from recordings_service.errors import Unavailable
from recordings_service.models import AuditEvent, Customer, Recording, SubjectRequest, Tombstone, User
from recordings_service.models.privacy import SubjectRequestKind
from recordings_service.models.recording import RecordingStatus
from recordings_service.storage.object_store import ObjectStore

DELETIONS = "ledger/deletions/"
OBJECTIONS = "ledger/objections/"
# Ids asked of the database at a time (well under SQLite's bound parameters).
LOOKUP_SHARE = 500

log = logging.getLogger(__name__)


def record_deletions(session: Session, store: ObjectStore, recording_ids: Sequence[str]) -> None:
    """Put these deleted recordings (their tombstones' reasons and times) in the ledger, as one new entry."""
    if not recording_ids:
        return
    tombstones = session.execute(
        select(Tombstone.recording_id, Tombstone.reason, Tombstone.deleted_at)
        .where(Tombstone.recording_id.in_(recording_ids))
        .order_by(Tombstone.recording_id)
    )
    deleted = [
        {"recording_id": recording_id, "reason": reason, "deleted_at": deleted_at.isoformat()}
        for recording_id, reason, deleted_at in tombstones
    ]
    if deleted:
        append_entry(store, DELETIONS, {"deleted": deleted})


def recorded_deletions(store: ObjectStore) -> tuple[dict[str, str], int]:
    """Every recording the ledger names, with the reason it was deleted; and how many entries it holds."""
    named: dict[str, str] = {}
    entries = 0
    for entry in read_entries(store, DELETIONS):
        for item in entry["deleted"]:
            named.setdefault(item["recording_id"], item["reason"])
        entries += 1
    return named, entries


def undeleted(session: Session, recording_ids: list[str]) -> Iterator[str]:
    """Those of `recording_ids` this database holds and has not deleted, in id order."""
    for start in range(0, len(recording_ids), LOOKUP_SHARE):
        share = recording_ids[start : start + LOOKUP_SHARE]
        yield from session.scalars(
            select(Recording.id)
            .where(Recording.id.in_(share), Recording.status != RecordingStatus.DELETED)
            .order_by(Recording.id)
        )


def record_objection(store: ObjectStore, customer: Customer, *, at: datetime) -> None:
    """Once an objection has committed: the customer's objections as they stand now, in the ledger."""
    flags = {"research": customer.objects_to_research, "marketing": customer.objects_to_marketing}
    record_decision(store, OBJECTIONS, {"customer_id": customer.id, **flags, "at": at.isoformat()}, what="objection")


@dataclass(frozen=True)
class ObjectionsReplayed:
    changed: int  # customers set to a newer objection than this database knew
    unknown: int  # customers the ledger names that this database does not hold (new since the backup)


def replay_objections(session: Session, store: ObjectStore, *, actor: Actor) -> ObjectionsReplayed:
    """After a restore: set each customer the ledger names, and this database holds, to their newest entry when it
    is newer than what this database knows of them (their newest objection carried out or replayed here), in the
    caller's transaction; audited `customer.objection_replayed`. Never older: a ledger that missed a decision (its
    write failed), or an older ledger than the one replayed before, would otherwise undo a newer objection."""
    newest = {entry["customer_id"]: entry for entry in read_entries(store, OBJECTIONS)}
    changed = unknown = 0
    for customer_id, entry in sorted(newest.items()):
        customer = session.get(Customer, customer_id)
        if customer is None:
            unknown += 1
            continue
        known = _objection_known_since(session, customer_id)
        flags = (bool(entry["research"]), bool(entry["marketing"]))
        stale = known is not None and datetime.fromisoformat(entry["at"]) <= known
        if stale or (customer.objects_to_research, customer.objects_to_marketing) == flags:
            continue
        customer.objects_to_research, customer.objects_to_marketing = flags
        record_event(
            session,
            actor=actor,
            action="customer.objection_replayed",
            object_type="customer",
            object_id=customer.id,
            details={"objects_to_research": flags[0], "objects_to_marketing": flags[1], "recorded_at": entry["at"]},
        )
        changed += 1
    session.flush()
    return ObjectionsReplayed(changed=changed, unknown=unknown)


def _objection_known_since(session: Session, customer_id: str) -> datetime | None:
    """When this database last learnt the customer's objections: their newest objection carried out here, or the
    newest entry replayed into it."""
    carried_out = session.scalar(
        select(func.max(SubjectRequest.completed_at)).where(
            SubjectRequest.customer_id == customer_id,
            SubjectRequest.kind == SubjectRequestKind.OBJECTION,
            SubjectRequest.completed_at.is_not(None),
        )
    )
    replayed = session.scalars(
        select(AuditEvent.details).where(
            AuditEvent.action == "customer.objection_replayed", AuditEvent.object_id == customer_id
        )
    )
    known = [carried_out, *(datetime.fromisoformat(details["recorded_at"]) for details in replayed)]
    return max((moment for moment in known if moment is not None), default=None)


def known_user(session: Session, user_id: str | None) -> str | None:
    """The account an entry names, when this database has it (one made after the backup is not)."""
    return user_id if user_id is not None and session.get(User, user_id) is not None else None


def record_decision(store: ObjectStore, prefix: str, entry: dict[str, Any], *, what: str) -> None:
    """An entry for a decision that has committed (an objection, a legal hold, a restriction). A store that refuses
    it is logged (`what`: the kind of decision, and an id at most) and the decision stands as committed: only a
    restore from an older backup would not know it. A deletion's entry is written before its purge is marked, and
    a refusal there leaves the purge pending instead (`record_deletions`)."""
    try:
        append_entry(store, prefix, entry)
    except Unavailable:
        log.warning("%s not written to the ledger: the store is unavailable", what, exc_info=True)


def append_entry(store: ObjectStore, prefix: str, entry: dict[str, Any]) -> None:
    write_entry(store, f"{prefix}{new_id()}.json", entry)


def write_entry(store: ObjectStore, key: str, entry: dict[str, Any]) -> None:
    store.put(key, io.BytesIO(json.dumps(entry, separators=(",", ":")).encode()))


def read_entries(store: ObjectStore, prefix: str) -> Iterator[dict[str, Any]]:
    """The entries under `prefix`, in the order written."""
    for _, entry in read_keyed_entries(store, prefix):
        yield entry


def read_keyed_entries(store: ObjectStore, prefix: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """`read_entries` with each entry's key (what `write_entry` rewrites it under)."""
    for info in store.list(prefix):
        with store.get(info.key) as body:
            entry: dict[str, Any] = json.load(body)
        yield info.key, entry
