"""Retiring a master key: what stored data each key of the keyset still wraps (`key_status`), and wrapping it again
under the primary key (`read_batch`, then `rewrap`), after which the old key can leave the keyset.

A data key is wrapped again, not replaced: the objects it encrypted in the store stay as they are. Each row is
written only where it still holds what was read (`rewrap`): an erasure or a sweep that crypto-shredded a call (its
wrapped key emptied) meanwhile, or a second factor reset, is never undone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_events
from recordings_service.mfa import seed_bound_to
from recordings_service.models import (
    CustodyConfirmation,
    Recording,
    ResearchBatch,
    SubjectRequest,
    TrainingSecret,
    User,
)
from recordings_service.privacy import hold_ledger
from recordings_service.runtime import SEALED, SECOND_FACTORS, SealedUnder, sealed_key_ids, seed_key_ids
from recordings_service.storage.encryption import DecryptionFailed, Envelope, WrappedKey
from recordings_service.storage.object_store import ObjectStore
from recordings_service.training.agents import secret_bound_to

DISABLED_SECOND_FACTORS = "second factors (disabled accounts)"
HOLD_REASONS = "legal hold reasons (ledger)"


@dataclass(frozen=True)
class _Kind:
    """One kind of wrapped secret: its row's id, its columns, and how it was wrapped (as its own code wraps it)."""

    what: str
    row_id: Any
    wrapped: Any
    key_id: Any | None  # None: the seal alone names its key (the TOTP seeds)
    sealed: bool  # sealed with `seal_secret`; else a data key from `new_data_key`
    bound_to: Callable[[str], str]


def _own_id(row_id: str) -> str:
    return row_id


# How each kind `runtime.SEALED` names is bound, by the code that wraps it: calls (`storage.originals`), research
# packages (`research.package`), custody certificates (`research.confirmations`), access packages
# (`privacy.access_package`) to their row's id; the pseudonym key of a batch (`research.batches`) too.
_HOW = {
    "calls": (Recording.id, False, _own_id),
    "training secrets": (TrainingSecret.name, True, secret_bound_to),
    "research pseudonym keys": (ResearchBatch.id, True, _own_id),
    "research packages": (ResearchBatch.id, False, _own_id),
    "custody certificates": (CustodyConfirmation.id, False, _own_id),
    "access packages": (SubjectRequest.id, False, _own_id),
}
KINDS = (
    *(_Kind(what, _HOW[what][0], wrapped, key_id, _HOW[what][1], _HOW[what][2]) for what, wrapped, key_id in SEALED),
    # Disabled accounts' seeds too: they are the accounts' data, and enabling one needs its seed to open.
    _Kind(SECOND_FACTORS, User.id, User.mfa_seed, None, True, seed_bound_to),
)


@dataclass(frozen=True)
class Wrapped:
    """A row's wrapped secret as read, to be wrapped again."""

    what: str
    row_id: str
    wrapped: bytes
    key_id: int | None


@dataclass(frozen=True)
class Batch:
    rows: list[Wrapped]
    after: str | None  # the last row id read, where the next batch begins; None: nothing was left to read


def read_batch(session: Session, envelope: Envelope, what: str, *, after: str | None, limit: int) -> Batch:
    """Up to `limit` rows of kind `what` past `after` (in id order) whose secret another key than the primary wraps."""
    kind = _kind(what)
    query = select(kind.row_id, kind.wrapped).where(kind.wrapped.is_not(None), kind.wrapped != b"")
    if kind.key_id is not None:
        query = query.add_columns(kind.key_id).where(or_(kind.key_id.is_(None), kind.key_id != envelope.master_key_id))
    if after is not None:
        query = query.where(kind.row_id > after)
    read = session.execute(query.order_by(kind.row_id).limit(limit)).all()
    rows = [Wrapped(what, row[0], row[1], row[2] if kind.key_id is not None else None) for row in read]
    if kind.key_id is None:
        # A seed keeps no key id beside it; its ciphertext names the key (one that does not is left as it is).
        rows = [
            Wrapped(what, row.row_id, row.wrapped, key_id)
            for row in rows
            if (key_id := envelope.sealed_under(row.wrapped)) is not None and key_id != envelope.master_key_id
        ]
    return Batch(rows, read[-1][0] if read else None)


@dataclass
class Rewrapped:
    """What a batch wrapped again, and what it could not open, by (what, the key id it was under)."""

    rewrapped: Counter[tuple[str, int | None]] = field(default_factory=Counter)
    unopened: Counter[tuple[str, int | None]] = field(default_factory=Counter)
    changed: int = 0  # rows shredded, reset or rewrapped by another run since they were read: left as they are now

    def add(self, other: Rewrapped) -> None:
        self.rewrapped.update(other.rewrapped)
        self.unopened.update(other.unopened)
        self.changed += other.changed


def rewrap(session: Session, envelope: Envelope, rows: list[Wrapped], *, actor: Actor, dry_run: bool) -> Rewrapped:
    """Wrap each row's secret again under the primary key (`dry_run`: only unwrap it), in the caller's transaction;
    audited `keys.rewrapped`, one event per kind and old key id (counts only)."""
    outcome = Rewrapped()
    for row in rows:
        kind = _kind(row.what)
        try:
            new = _wrapped_again(envelope, kind, row)
        except DecryptionFailed:
            outcome.unopened[row.what, row.key_id] += 1
            continue
        if not dry_run and not _replace(session, kind, row, new):
            outcome.changed += 1
            continue
        outcome.rewrapped[row.what, row.key_id] += 1
    if not dry_run:
        _record_rewrapped(session, envelope, outcome, actor=actor)
    return outcome


def _record_rewrapped(session: Session, envelope: Envelope, outcome: Rewrapped, *, actor: Actor) -> None:
    """`keys.rewrapped`, one event per kind and old key id: counts only."""
    events = [
        (None, {"what": what, "from_key_id": key_id, "to_key_id": envelope.master_key_id, "count": count})
        for (what, key_id), count in sorted(outcome.rewrapped.items(), key=str)
    ]
    record_events(session, actor=actor, action="keys.rewrapped", object_type=None, items=events)


def _wrapped_again(envelope: Envelope, kind: _Kind, row: Wrapped) -> WrappedKey:
    bound_to = kind.bound_to(row.row_id)
    if kind.sealed:
        return envelope.reseal_secret(row.wrapped, object_id=bound_to)
    return envelope.rewrap_data_key(row.wrapped, object_id=bound_to)


def _replace(session: Session, kind: _Kind, row: Wrapped, new: WrappedKey) -> bool:
    """Write the new wrapping where the row still holds the one read: a key shredded (emptied) or replaced since
    (an erasure, a second factor reset, a card-data redaction's new data key) stays as it is now."""
    values: dict[Any, bytes | int] = {kind.wrapped: new.wrapped}
    if kind.key_id is not None:
        values[kind.key_id] = new.master_key_id
    result = session.execute(
        update(kind.row_id.class_)
        .where(kind.row_id == row.row_id, kind.wrapped == row.wrapped)
        .values(values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _kind(what: str) -> _Kind:
    return next(kind for kind in KINDS if kind.what == what)


def rewrap_hold_reasons(
    session: Session, store: ObjectStore, envelope: Envelope, *, actor: Actor, dry_run: bool
) -> Rewrapped:
    """The legal hold ledger's sealed reasons, in the store, sealed again under the primary key; audited as the
    database's kinds are, in the caller's transaction."""
    resealed = hold_ledger.reseal_reasons(store, envelope, dry_run=dry_run)
    outcome = Rewrapped(
        rewrapped=Counter({(HOLD_REASONS, key_id): count for key_id, count in resealed.resealed.items()}),
        unopened=Counter({(HOLD_REASONS, key_id): count for key_id, count in resealed.unopened.items()}),
    )
    if not dry_run:
        _record_rewrapped(session, envelope, outcome, actor=actor)
    return outcome


@dataclass(frozen=True)
class KeyStatus:
    primary: int
    held: frozenset[int]
    sealed: list[SealedUnder]  # what each key id still wraps, held or not

    @property
    def removable(self) -> list[int]:
        """The held keys other than the primary that nothing stored needs."""
        needed = {sealed.key_id for sealed in self.sealed}
        return sorted(self.held - needed - {self.primary})


def key_status(session: Session, store: ObjectStore, envelope: Envelope) -> KeyStatus:
    """What each master key id wraps: what a process's start checks (`sealed_key_ids`), disabled accounts' seeds and
    the legal hold ledger's reasons in the store, which a rewrap also covers and an old key must outlive."""
    disabled = seed_key_ids(session, envelope, active=False)
    reasons = hold_ledger.sealed_reasons(store, envelope)
    return KeyStatus(
        primary=envelope.master_key_id,
        held=envelope.key_ids,
        sealed=[
            *sealed_key_ids(session, envelope),
            *(SealedUnder(DISABLED_SECOND_FACTORS, key_id, count) for key_id, count in disabled),
            *(SealedUnder(HOLD_REASONS, key_id, count) for key_id, count in sorted(reasons.items())),
        ],
    )
