"""Restrictions of processing (GDPR Art. 18) in the privacy ledger (`ledger/restrictions/`), so that one put in force
or lifted after a backup outlives a restore of it.

Kept in the database alone, a restriction made after the backup was lost with it: the restored database let the
customer's calls be played, exported and selected for training and research again, and one lifted since kept them
restricted. Once a restriction has been put in force (`fulfilment.after_commit`) or lifted, the request as it then
stands is written (ids and times only); after a restore `replay_restrictions` puts each one in force that the
database does not have in force, and lifts each one lifted since.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.models import Customer, SubjectRequest
from recordings_service.models.privacy import SubjectRequestKind
from recordings_service.privacy import ledger, restriction
from recordings_service.storage.object_store import ObjectStore

RESTRICTIONS = "ledger/restrictions/"


def record_restriction(store: ObjectStore, request: SubjectRequest) -> None:
    """Once the restriction was put in force or lifted, and that committed: the request as it now stands, in the
    ledger."""
    entry = {
        "request_id": request.id,
        "customer_id": request.customer_id,
        "received_at": request.received_at.isoformat(),
        "due_at": request.due_at.isoformat(),
        "created_by": request.created_by,
        "completed_at": _moment(request.completed_at),
        "lifted_at": _moment(request.lifted_at),
    }
    ledger.record_decision(store, RESTRICTIONS, entry, what=f"restriction {request.id}")


@dataclass(frozen=True)
class RestrictionsReplayed:
    in_force: int  # restrictions put back in force (new to this database, or open in it)
    lifted: int  # restrictions lifted since the backup
    unknown: int  # restrictions of customers this database does not hold (new since the backup)


def replay_restrictions(session: Session, store: ObjectStore, *, actor: Actor) -> RestrictionsReplayed:
    """After a restore, in the caller's transaction: put each restriction the ledger names in force, as it was when
    the ledger wrote it, where this database does not have it in force (the request registered again where it is
    missing), and lift each one the ledger has lifted, by the service's own steps (`restriction.restrict_processing`,
    `restriction.lift_restriction`: audited as any, by the replay), at the times the ledger has."""
    newest = {entry["request_id"]: entry for entry in ledger.read_entries(store, RESTRICTIONS)}
    in_force = lifted = unknown = 0
    for request_id, entry in sorted(newest.items()):
        request = session.get(SubjectRequest, request_id)
        if request is None:
            if session.get(Customer, entry["customer_id"]) is None:
                unknown += 1
                continue
            request = _registered_again(session, entry)
        if request.open and entry["completed_at"] is not None:
            completed_at = datetime.fromisoformat(entry["completed_at"])
            restriction.restrict_processing(session, actor=actor, request_id=request_id, now=completed_at)
            in_force += 1
        if request.lifted_at is None and not request.open and entry["lifted_at"] is not None:
            lifted_at = datetime.fromisoformat(entry["lifted_at"])
            restriction.lift_restriction(session, actor=actor, request_id=request_id, now=lifted_at)
            lifted += 1
    session.flush()
    return RestrictionsReplayed(in_force=in_force, lifted=lifted, unknown=unknown)


def _registered_again(session: Session, entry: dict[str, Any]) -> SubjectRequest:
    """The request registered after the backup, as it was registered: open, for the replay to carry out."""
    request = SubjectRequest(
        id=entry["request_id"],
        customer_id=entry["customer_id"],
        kind=SubjectRequestKind.RESTRICTION,
        received_at=datetime.fromisoformat(entry["received_at"]),
        due_at=datetime.fromisoformat(entry["due_at"]),
        created_by=ledger.known_user(session, entry["created_by"]),
        outcome={},
    )
    session.add(request)
    session.flush()
    return request


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
