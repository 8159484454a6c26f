"""Fixed-window counts kept in the database (the per-address sign-in throttle's), so that every web worker shares
them: counted in each worker's memory, an address got the allowance once per worker.

A key is kept only as a keyed hash (it names the address); a window's row is reset by the first hit after it ends,
and rows whose window ended an hour ago are removed as hits come in.
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import case, delete, select
from sqlalchemy.orm import Session

from recordings_service.db import upsert_insert
from recordings_service.models import RateCount

# Ended windows are removed once they are this old (seconds): a sign-in then costs one more statement at most.
FORGET_AFTER_S = 3600.0


def stored_key(secret: str, key: str) -> str:
    return hmac.new(secret.encode(), key.encode(), hashlib.sha256).hexdigest()


def add(session: Session, key: str, *, amount: int, window_s: int, now: float) -> int:
    """Add `amount` to the key's count in its window (a new window of `window_s` when the last one ended); the count
    now. In one statement, so that hits at the same moment from any worker each count."""
    live = RateCount.expires_at > now
    statement = upsert_insert(session)(RateCount).values(key=key, count=amount, expires_at=now + window_s)
    statement = statement.on_conflict_do_update(
        index_elements=[RateCount.key],
        set_={
            "count": case((live, RateCount.count + amount), else_=amount),
            "expires_at": case((live, RateCount.expires_at), else_=now + window_s),
        },
    ).returning(RateCount.count)
    count: int = session.execute(statement).scalar_one()
    return count


def forget_ended(session: Session, *, now: float) -> None:
    """Remove the counts whose window ended a while ago. Apart from `add`'s transaction, whose row lock it would
    otherwise hold while waiting for another worker's: two of them could each wait for the other."""
    session.execute(delete(RateCount).where(RateCount.expires_at < now - FORGET_AFTER_S))


def current(session: Session, key: str, *, now: float) -> tuple[int, float]:
    """The key's count in its window and when that window ends; (0, now) when none is running."""
    row = session.execute(select(RateCount.count, RateCount.expires_at).where(RateCount.key == key)).first()
    if row is None:
        return 0, now
    count, expires_at = row
    return (count, expires_at) if expires_at > now else (0, now)


def clear(session: Session, key: str | None = None) -> int:
    """Forget the key's count (every count, without one); how many rows went."""
    statement = delete(RateCount)
    if key is not None:
        statement = statement.where(RateCount.key == key)
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]
