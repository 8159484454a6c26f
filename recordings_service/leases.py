"""Leased work items (transcription jobs, access packages, research packages): claim, hold, give up.

A claim is one conditional UPDATE whose inner SELECT takes the row `FOR UPDATE SKIP LOCKED` on
PostgreSQL, so concurrent workers pass over each other's rows; SQLite has one writer at a time, which makes
the same statement atomic there. A worker that dies stops renewing; once its lease expires the item is
claimed again, and an item whose workers died on every attempt is given up instead of looping. Every
later write is conditional on still holding the lease (same owner, same attempt), so a worker that lost
it cannot finish.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session


@dataclass(frozen=True)
class Lease:
    """Where one kind of work item keeps its lease, and the state it is in while leased."""

    id: InstrumentedAttribute[str]
    state: InstrumentedAttribute[str]
    owner: InstrumentedAttribute[str | None]
    expires: InstrumentedAttribute[datetime | None]
    attempts: InstrumentedAttribute[int]
    running: str

    def expired(self, now: datetime) -> ColumnElement[bool]:
        """Leased, but its worker stopped renewing: another worker may take it."""
        return and_(self.state == self.running, self.expires < now)

    def abandoned(self, now: datetime, *, max_attempts: int) -> ColumnElement[bool]:
        """Expired on its last allowed attempt: the worker died every time."""
        return and_(self.expired(now), self.attempts >= max_attempts)

    def claim(
        self,
        session: Session,
        *,
        due: ColumnElement[bool],
        order_by: Sequence[Any],
        owner: str,
        lease_s: float,
        now: datetime,
        values: Mapping[str, Any],
        returning: Sequence[Any],
        parent: tuple[Any, ColumnElement[bool]] | None = None,
    ) -> Row[Any] | None:
        """Lease the first `due` item to `owner` (one more attempt), setting `values` too; its `returning` row.

        `parent` (a table and its join condition): its row is locked with the item's, for a claim that writes it
        next; an item whose parent another transaction holds is passed over too, so a claim never waits for one
        while it holds the item (which that transaction may want next: a deadlock)."""
        chosen = select(self.id).where(due).order_by(*order_by).limit(1)
        if parent is None:
            chosen = chosen.with_for_update(skip_locked=True)
        else:
            table, onclause = parent
            chosen = chosen.join(table, onclause).with_for_update(
                skip_locked=True, key_share=True, of=[self.id.class_, table]
            )
        row: Row[Any] | None = session.execute(
            update(self.id.class_)
            .where(self.id == chosen.scalar_subquery())
            .values(
                {
                    self.state.key: self.running,
                    self.owner.key: owner,
                    self.expires.key: now + timedelta(seconds=lease_s),
                    self.attempts.key: self.attempts + 1,
                    **values,
                }
            )
            .returning(*returning)
            .execution_options(synchronize_session=False)
        ).one_or_none()
        return row

    def held_by(self, *, item_id: str, owner: str, attempt: int) -> ColumnElement[bool]:
        return and_(self.id == item_id, self.state == self.running, self.owner == owner, self.attempts == attempt)

    def update_held(
        self, session: Session, *, item_id: str, owner: str, attempt: int, values: Mapping[str, Any]
    ) -> bool:
        """Write `values` if `owner` still holds the lease of this attempt; False when it lost it."""
        result = session.execute(
            update(self.id.class_)
            .where(self.held_by(item_id=item_id, owner=owner, attempt=attempt))
            .values(dict(values))
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
