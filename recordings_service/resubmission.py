"""A form sent twice (a double click, a browser's resend, a client's retry): the second answers what the first made.

Both submissions arrive together, so each takes its turn (`take_turn`) before it looks for what the other made."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.models import User

# The same submission by the same person this soon is the one they sent before, as a research selection's is.
RESENT_WITHIN = timedelta(minutes=10)

T = TypeVar("T")


def take_turn(session: Session, actor: Actor) -> None:
    """Hold the actor's own account row until the transaction ends, so their submissions are answered one after
    the other. No key update: rows naming the account (their audit events, what they write elsewhere) are not held
    up. On SQLite the locking read takes the database's write lock."""
    if actor.id is not None:
        session.execute(select(User.id).where(User.id == actor.id).with_for_update(key_share=True))


@dataclass(frozen=True)
class Made(Generic[T]):
    """What a submission came to: what it made, or (`new` false) what the same person's same submission made before."""

    made: T
    new: bool
