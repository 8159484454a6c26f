"""Legal holds in the privacy ledger (`ledger/holds/`), so that a hold placed or released after a backup outlives a
restore of it.

Kept in the database alone, they were lost with it: after a restore, a call held since the backup for a dispute was
deletable again (the sweep or an erasure took it), and one released since stayed held, so that the replay of an
erasure made after the release left the call for review. Once a placement or a release has committed, the hold as it
then stands is written (`record_hold`); its reasons are staff text that may name the dispute, so they are sealed by
the master key, bound to the hold. After a restore, releases are replayed before the deletion ledger (a call erased
after its hold was released is deleted again), placements after it (a customer hold placed after an erasure covers
the customer's remaining calls, as it did).
"""

from __future__ import annotations

import base64
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.models import Customer, LegalHold, Recording
from recordings_service.privacy import holds, ledger
from recordings_service.runtime import envelope_of
from recordings_service.storage.encryption import DecryptionFailed, Envelope
from recordings_service.storage.object_store import ObjectStore

HOLDS = "ledger/holds/"
# The entry's fields the master key seals (staff text).
_SEALED_FIELDS = ("reason", "release_reason")


def record_hold(session: Session, store: ObjectStore, hold: LegalHold) -> None:
    """Once the hold's placement or release has committed: the hold as it now stands, in the ledger."""
    envelope = envelope_of(session)
    entry = {
        "hold_id": hold.id,
        "recording_id": hold.recording_id,
        "customer_id": hold.customer_id,
        "placed_by": hold.placed_by,
        "placed_at": hold.placed_at.isoformat(),
        "reason": _seal(envelope, hold.reason, hold_id=hold.id, field="reason"),
        "released_by": hold.released_by,
        "released_at": hold.released_at.isoformat() if hold.released_at is not None else None,
        "release_reason": (
            _seal(envelope, hold.release_reason, hold_id=hold.id, field="release_reason")
            if hold.release_reason is not None
            else None
        ),
    }
    ledger.record_decision(store, HOLDS, entry, what=f"legal hold {hold.id}")


def recorded_holds(store: ObjectStore) -> dict[str, dict[str, Any]]:
    """Each hold the ledger names, as its newest entry has it."""
    return {entry["hold_id"]: entry for entry in ledger.read_entries(store, HOLDS)}


def replay_releases(session: Session, recorded: dict[str, dict[str, Any]], *, actor: Actor) -> int:
    """After a restore, before the deletion ledger's replay: release each hold the ledger has released that is in
    force in this database, in the caller's transaction; audited `legal_hold.release_replayed`. How many."""
    envelope = envelope_of(session)
    released = 0
    for hold_id, entry in sorted(recorded.items()):
        hold = session.get(LegalHold, hold_id)
        if entry["released_at"] is None or hold is None or not hold.active:
            continue
        hold.released_at = datetime.fromisoformat(entry["released_at"])
        hold.released_by = ledger.known_user(session, entry["released_by"])
        hold.release_reason = _release_reason(envelope, entry)
        session.flush()
        holds.refresh_held_flags(session, hold)
        record_event(
            session,
            actor=actor,
            action="legal_hold.release_replayed",
            object_type="legal_hold",
            object_id=hold_id,
            details={"released_at": entry["released_at"]},
        )
        released += 1
    return released


@dataclass(frozen=True)
class Placements:
    placed: int  # holds put back (in force, or released since as the ledger says)
    unknown: int  # holds on calls or customers this database does not hold (new since the backup)


def replay_placements(session: Session, recorded: dict[str, dict[str, Any]], *, actor: Actor) -> Placements:
    """After a restore, after the deletion ledger's replay: put back each hold this database does not have, as the
    ledger last had it (in force or released), in the caller's transaction; audited `legal_hold.replayed`."""
    envelope = envelope_of(session)
    placed = unknown = 0
    for hold_id, entry in sorted(recorded.items()):
        if session.get(LegalHold, hold_id) is not None:
            continue
        recording_id, customer_id = entry["recording_id"], entry["customer_id"]
        target = session.get(Recording, recording_id) if recording_id else session.get(Customer, customer_id)
        if target is None:
            unknown += 1
            continue
        released_at = entry["released_at"]
        hold = LegalHold(
            id=hold_id,
            recording_id=recording_id,
            customer_id=customer_id,
            reason=_open(envelope, entry["reason"], hold_id=hold_id, field="reason"),
            placed_by=ledger.known_user(session, entry["placed_by"]),
            placed_at=datetime.fromisoformat(entry["placed_at"]),
            released_by=ledger.known_user(session, entry["released_by"]),
            released_at=datetime.fromisoformat(released_at) if released_at is not None else None,
            release_reason=_release_reason(envelope, entry),
        )
        session.add(hold)
        session.flush()
        holds.refresh_held_flags(session, hold)
        record_event(
            session,
            actor=actor,
            action="legal_hold.replayed",
            object_type="legal_hold",
            object_id=hold_id,
            details={
                "recording_id": recording_id,
                "customer_id": customer_id,
                "placed_at": entry["placed_at"],
                "released_at": released_at,
            },
        )
        placed += 1
    return Placements(placed=placed, unknown=unknown)


def _release_reason(envelope: Envelope, entry: dict[str, Any]) -> str | None:
    sealed = entry["release_reason"]
    return None if sealed is None else _open(envelope, sealed, hold_id=entry["hold_id"], field="release_reason")


def _seal(envelope: Envelope, text: str, *, hold_id: str, field: str) -> str:
    sealed = envelope.seal_secret(text.encode(), object_id=_bound_to(hold_id, field))
    return base64.b64encode(sealed.wrapped).decode()


def _open(envelope: Envelope, sealed: str, *, hold_id: str, field: str) -> str:
    return envelope.open_secret(base64.b64decode(sealed), object_id=_bound_to(hold_id, field)).decode()


def _bound_to(hold_id: str, field: str) -> str:
    return f"legal_hold/{hold_id}/{field}"


def sealed_reasons(store: ObjectStore, envelope: Envelope) -> Counter[int]:
    """How many of the ledger's sealed reasons each master key id sealed (one whose seal names no key is left out):
    a restore's replay opens them, so the keyset must hold their keys as long as the ledger keeps them."""
    return Counter(
        key_id
        for entry in ledger.read_entries(store, HOLDS)
        for sealed in _sealed_fields(entry).values()
        if (key_id := envelope.sealed_under(sealed)) is not None
    )


@dataclass
class Resealed:
    """Reasons sealed again under the primary key, and those that did not open, by the key id they were under."""

    resealed: Counter[int] = field(default_factory=Counter)
    unopened: Counter[int] = field(default_factory=Counter)


def reseal_reasons(store: ObjectStore, envelope: Envelope, *, dry_run: bool) -> Resealed:
    """Seal again under the primary key each reason of the ledger that another key sealed (`dry_run`: open them only).

    Each such entry is rewritten under its own name, so that the ledger's order, and which entry of a hold is its
    newest, stay as they were; then every version of an entry but its current one (which no reader of the ledger
    opens) is deleted, so that the old key no longer opens any reason kept in the store: also those a run
    interrupted between its rewrite and the deletion left, when run again (it finds the entry under the primary key
    already). Told apart from the current one as listed after the rewrite: by the ids listed before it, a bucket
    without versioning (one version a key, named `null`) had the rewritten entry itself deleted. A second run at once
    deletes no version newer than the current one it lists.
    """
    outcome = Resealed()
    for key, entry in ledger.read_keyed_entries(store, HOLDS):
        changed = dict(entry)
        for name, sealed in _sealed_fields(entry).items():
            key_id = envelope.sealed_under(sealed)
            if key_id is None or key_id == envelope.master_key_id:
                continue
            bound_to = _bound_to(entry["hold_id"], name)
            try:
                changed[name] = base64.b64encode(envelope.reseal_secret(sealed, object_id=bound_to).wrapped).decode()
            except DecryptionFailed:
                outcome.unopened[key_id] += 1
                continue
            outcome.resealed[key_id] += 1
        if dry_run:
            continue
        if changed != entry:
            ledger.write_entry(store, key, changed)
        earlier = [
            version.version_id for version in store.list_versions(key) if version.key == key and not version.latest
        ]
        if earlier:
            store.delete_versions((key, version_id) for version_id in earlier)
    return outcome


def _sealed_fields(entry: dict[str, Any]) -> dict[str, bytes]:
    return {name: base64.b64decode(entry[name]) for name in _SEALED_FIELDS if entry.get(name) is not None}
