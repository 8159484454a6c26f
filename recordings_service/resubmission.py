"""A form sent twice (a double click, a browser's resend, a client's retry): the second answers what the first made.

Both submissions arrive together, so each takes its turn (`take_turn`) before it looks for what the other made."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.models import User

# The same submission by the same person this soon is the one they sent before: a research selection, a clip, a set.
RESENT_WITHIN = timedelta(minutes=10)

T = TypeVar("T")


def take_turn(session: Session, actor: Actor) -> None:
    """Hold the actor's turn until the transaction ends, so their submissions are answered one after the other.

    On PostgreSQL a transaction's advisory lock named by the account, not its row: a clip's cut holds its turn while
    its audio is encoded (seconds), and the account row held that long kept the trainer's own sign-in elsewhere
    (which writes its last sign-in there) and an admin disabling them waiting. On SQLite the locking read of the row
    takes the database's write lock, as any writer must."""
    if actor.id is None:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_turn_key(actor.id))))
    else:
        session.execute(select(User.id).where(User.id == actor.id).with_for_update(key_share=True))


def _turn_key(account_id: str) -> int:
    """The advisory lock's number for the account's turn: 64 bits of a hash of its id, the only lock taken so."""
    digest = hashlib.sha256(f"resubmission:{account_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@dataclass(frozen=True)
class Made(Generic[T]):
    """What a submission came to: what it made, or (`new` false) what the same person's same submission made before."""

    made: T
    new: bool
