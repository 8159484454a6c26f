"""Legal holds: a dispute keeps one recording, or every recording of a customer, until the hold is released.

`Recording.legal_hold` mirrors the active holds (set when a hold is placed or a held customer's call is
ingested, recomputed on release), so lists can show it and the sweep can skip held calls cheaply; the
deletion path checks the holds table itself as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Exists, case, exists, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from recordings_service.audit import Actor, record_event
from recordings_service.customers import customer_reference, lock_customer, refuse_mistyped, register_customer
from recordings_service.db import id_cursor, key_cursor, utcnow
from recordings_service.errors import Conflict, Invalid, NotFound
from recordings_service.models import Customer, LegalHold, Recording
from recordings_service.models.recording import RecordingStatus
from recordings_service.recordings import get_playable_recording
from recordings_service.written_text import checked_lines

MAX_REASON = 2000
# The tag of the legal holds' cursors (`id_cursor`): another list's id is no place in this one.
CURSOR_TAG = "legal_holds"
ACTIVE = LegalHold.released_at.is_(None)


@dataclass(frozen=True)
class Placement:
    """What placing a hold did: the hold in force, the live recordings it covers, and whether it is new."""

    hold: LegalHold
    recordings: int
    new: bool


def place_hold(
    session: Session,
    *,
    actor: Actor,
    reason: str,
    recording_id: str | None = None,
    customer_ref: str | None = None,
    known_customer_only: bool = False,
) -> Placement:
    """Hold one recording or all of a customer's, unless an active hold with the same target and reason is in force
    already (a form sent twice, a client's retry): then that hold is the answer, and nothing is written or audited.

    A customer reference no customer has holds that customer's calls to come, unless `known_customer_only` (the
    page's default: a mistyped reference was told "placed on 0 recordings", the customer meant left unheld)."""
    text = _reason(reason, field="reason")
    if (recording_id is None) == (customer_ref is None):
        raise Invalid("recording_id", "give either recording_id or customer_ref", code="one_target")
    if recording_id is not None:
        recording = _held_recording(session, actor=actor, recording_id=recording_id)
        same = LegalHold.recording_id == recording.id
        hold = LegalHold(recording_id=recording.id, reason=text, placed_by=actor.id)
        scope: ColumnElement[bool] = Recording.id == recording.id
    else:
        assert customer_ref is not None  # exactly one of the two, checked above
        reference = customer_reference(customer_ref)
        refuse_mistyped(session, reference)  # the likelier mistake, named with the matching reference
        if known_customer_only:
            _refuse_unknown_customer(session, reference)
        customer_id = register_customer(session, reference)
        # Two placements of one hold at once are one after the other; so is a call of the customer being ingested.
        lock_customer(session, customer_id)
        same = LegalHold.customer_id == customer_id
        hold = LegalHold(customer_id=customer_id, reason=text, placed_by=actor.id)
        scope = Recording.customer_id == customer_id
    existing = session.scalars(
        select(LegalHold).where(ACTIVE, same, LegalHold.reason == text).order_by(LegalHold.id).limit(1)
    ).first()
    if existing is not None:
        return Placement(existing, covered_counts(session, [existing])[existing.id], new=False)
    session.add(hold)
    session.flush()
    covered = session.execute(
        update(Recording)
        .where(scope, Recording.status != RecordingStatus.DELETED)
        .values(legal_hold=True)
        .execution_options(synchronize_session="fetch")
    ).rowcount  # type: ignore[attr-defined]
    record_event(
        session,
        actor=actor,
        action="legal_hold.placed",
        object_type="legal_hold",
        object_id=hold.id,
        details={
            "recording_id": hold.recording_id,
            "customer_id": hold.customer_id,
            "recordings": covered,
            "covered_recordings": _customers_recordings(session, hold),
        },
    )
    return Placement(hold, int(covered), new=True)


def release_hold(session: Session, *, actor: Actor, hold_id: str, reason: str) -> LegalHold:
    """Release a hold; its recordings stay held only where another active hold covers them."""
    text = _reason(reason, field="reason")
    hold = session.get(LegalHold, hold_id, with_for_update=True, populate_existing=True)
    if hold is None:
        raise NotFound(f"legal hold {hold_id} not found", why="hold_not_found")
    if hold.released_at is not None:
        raise Conflict(f"legal hold {hold_id} was released already", why="hold_released")
    if hold.customer_id is not None:
        # As on placing: a call of the customer being ingested meanwhile is then recomputed below, or reads the release.
        lock_customer(session, hold.customer_id)
    hold.released_at, hold.released_by, hold.release_reason = utcnow(), actor.id, text
    session.flush()
    refresh_held_flags(session, hold)
    kept = still_held(session, hold)
    record_event(
        session,
        actor=actor,
        action="legal_hold.released",
        object_type="legal_hold",
        object_id=hold.id,
        details={
            "recording_id": hold.recording_id,
            "customer_id": hold.customer_id,
            # What it held until now: the page's count of a released hold is 0 (see `covered_counts`).
            "recordings": _live_recordings(session, hold),
            "covered_recordings": _customers_recordings(session, hold),
            "still_held": kept,
        },
    )
    return hold


def refresh_held_flags(session: Session, hold: LegalHold) -> None:
    """Set the flag of each live recording the hold names from the holds now in force (once the hold's change is
    flushed). A deleted recording's stays as it is: cleared, since none is deleted while held.

    The recordings' rows are locked first (in id order), and their flags computed in a statement after it: that one
    reads the holds as committed once any other change of them has finished. Computed in the statement that waited
    for the lock, it read them as before that change: two releases at once left the flag set with no hold in force,
    and a release beside a new customer hold cleared it under that hold."""
    named = _live_named_by(hold)
    session.execute(select(Recording.id).where(*named).order_by(Recording.id).with_for_update())
    session.execute(
        update(Recording)
        .where(*named)
        .values(legal_hold=case((held_clause(), True), else_=False))
        .execution_options(synchronize_session="fetch")
    )


def still_held(session: Session, hold: LegalHold) -> int:
    """Live recordings the hold names that another active hold keeps held."""
    return _live_recordings(session, hold, held_clause())


def held_clause() -> ColumnElement[bool]:
    """True for recordings an active hold covers, directly or through their customer."""
    return or_(
        exists().where(ACTIVE, LegalHold.recording_id == Recording.id),
        exists().where(ACTIVE, LegalHold.customer_id == Recording.customer_id),
    )


def is_held(session: Session, recording: Recording) -> bool:
    """Whether any active hold covers `recording` (the flag and the holds table both count)."""
    if recording.legal_hold:
        return True
    return bool(session.scalar(select(held_clause()).select_from(Recording).where(Recording.id == recording.id)))


def active_holds_on(session: Session, recording: Recording) -> list[LegalHold]:
    """The active holds covering a recording, directly or through its customer, oldest first."""
    target = LegalHold.recording_id == recording.id
    if recording.customer_id is not None:
        target = or_(target, LegalHold.customer_id == recording.customer_id)
    return list(session.scalars(select(LegalHold).where(ACTIVE, target).order_by(LegalHold.placed_at)))


def customer_held(customer_id: str) -> Exists:
    """Whether a customer-wide hold is active: a call of that customer ingested now is held at once."""
    return exists().where(ACTIVE, LegalHold.customer_id == customer_id)


def list_holds(
    session: Session, *, active: bool | None = None, cursor: str | None = None, limit: int = 50
) -> list[LegalHold]:
    """Holds newest first, with their customers (the page and API name each); `cursor`: the list's `next_cursor`."""
    query = select(LegalHold).options(selectinload(LegalHold.customer))
    if active is not None:
        query = query.where(ACTIVE if active else LegalHold.released_at.is_not(None))
    if cursor:
        query = query.where(LegalHold.id < id_cursor(cursor, CURSOR_TAG))
    return list(session.scalars(query.order_by(LegalHold.id.desc()).limit(limit)))


@dataclass(frozen=True)
class HoldPage:
    items: list[LegalHold]
    next_cursor: str | None


def browse_holds(
    session: Session, *, actor: Actor, active: bool | None = None, cursor: str | None = None, limit: int = 50
) -> HoldPage:
    """A page of `list_holds` for a person or client, audited as `legal_hold.listed`: the rows name customers and
    why they are in dispute. As with `recording.listed`, the event keeps counts and the state asked for, never
    the refs or reasons shown."""
    rows = list_holds(session, active=active, cursor=cursor, limit=limit + 1)
    items = rows[:limit]
    customer_holds = sum(1 for hold in items if hold.customer_id is not None)
    record_event(
        session,
        actor=actor,
        action="legal_hold.listed",
        object_type="legal_hold",
        details={
            "results": len(items),
            "customer_holds": customer_holds,
            "recording_holds": len(items) - customer_holds,
            "state": {True: "active", False: "released", None: "all"}[active],
            "next_page": cursor is not None,
        },
    )
    return HoldPage(items=items, next_cursor=key_cursor(CURSOR_TAG, items[-1].id) if len(rows) > limit else None)


def _refuse_unknown_customer(session: Session, customer_ref: str) -> None:
    if session.scalar(select(Customer.id).where(Customer.customer_ref == customer_ref)) is None:
        raise Invalid(
            "customer_ref",
            f"no customer has the reference {customer_ref}: check it, or hold the calls to come of a customer not "
            "known yet",
            code="unknown_customer",
        )


def covered_counts(session: Session, holds: Sequence[LegalHold]) -> dict[str, int]:
    """Live recordings each hold keeps now (for customer holds, the customer's recordings). A released hold keeps
    none: counting its target's recordings today would read as if it still held them, calls recorded after the
    release included."""
    # Two queries for the whole page, however many holds it lists: one per kind of target.
    active = [hold for hold in holds if hold.active]
    live = Recording.status != RecordingStatus.DELETED
    recording_ids = {hold.recording_id for hold in active if hold.recording_id is not None}
    customer_ids = {hold.customer_id for hold in active if hold.recording_id is None and hold.customer_id is not None}
    live_ids: set[str] = set()
    if recording_ids:
        live_ids = set(session.scalars(select(Recording.id).where(Recording.id.in_(recording_ids), live)))
    per_customer: dict[str | None, int] = {}
    if customer_ids:
        rows = session.execute(
            select(Recording.customer_id, func.count())
            .where(Recording.customer_id.in_(customer_ids), live)
            .group_by(Recording.customer_id)
        )
        per_customer = {customer_id: count for customer_id, count in rows}

    def count(hold: LegalHold) -> int:
        if not hold.active:
            return 0
        if hold.recording_id is not None:
            return int(hold.recording_id in live_ids)
        return per_customer.get(hold.customer_id, 0)

    return {hold.id: count(hold) for hold in holds}


def _live_named_by(hold: LegalHold) -> tuple[ColumnElement[bool], ...]:
    """The recordings a hold names and that are not deleted: its one recording, or every recording of its customer."""
    named = (
        Recording.id == hold.recording_id
        if hold.recording_id is not None
        else Recording.customer_id == hold.customer_id
    )
    return named, Recording.status != RecordingStatus.DELETED


def _live_recordings(session: Session, hold: LegalHold, *where: ColumnElement[bool]) -> int:
    """How many of the recordings the hold names are not deleted (and match `where`), active or released."""
    query = select(func.count()).select_from(Recording).where(*_live_named_by(hold))
    return session.scalar(query.where(*where)) or 0


def _customers_recordings(session: Session, hold: LegalHold) -> str:
    """A customer hold's live recordings (comma-separated ids), which its events name so that each call's trail lists
    them (`audit.RECORDINGS_NAMED_IN`): an evidence package showed the call held, but not since when or by whom. A
    recording hold names its one call in `recording_id` (`audit_search.RECORDING_DETAIL_OF`)."""
    if hold.customer_id is None:
        return ""
    return ",".join(session.scalars(select(Recording.id).where(*_live_named_by(hold)).order_by(Recording.id)))


def _held_recording(session: Session, *, actor: Actor, recording_id: str) -> Recording:
    """The recording a hold is placed on: one the actor may see and not deleted yet."""
    try:
        recording = get_playable_recording(session, actor=actor, recording_id=recording_id, audio=False)
    except NotFound as exc:
        # The loader's refusal is kept; the code and the field say which input was not found, for pages and clients.
        raise NotFound(exc.message, why="recording_not_found", field="recording_id", refusal=exc.refusal) from None
    # Locked, its status read again under the lock: two placements of one hold at once are one after the other, and
    # a deletion in progress (the sweep, an erasure) is waited for; read before the lock, a hold was placed, and
    # audited as holding nothing, on a call that deletion had just removed.
    status = session.scalar(select(Recording.status).where(Recording.id == recording.id).with_for_update())
    if status == RecordingStatus.DELETED:
        raise Conflict(
            f"recording {recording_id} has already been deleted", why="recording_deleted", field="recording_id"
        )
    return recording


def _reason(value: str, *, field: str) -> str:
    """The reason as kept; checked as it is typed, since the store's hold ledger seals it as given."""
    return checked_lines(field, value, what="a reason", limit=MAX_REASON, missing="state the reason")
