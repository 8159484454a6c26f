"""Sign-in lockout: failed passwords and codes are counted and audited, and ten in a row lock the account a while."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from recordings_service.audit import Actor, record_event
from recordings_service.db import utcnow
from recordings_service.models import User

LOCKOUT_THRESHOLD = 10
LOCKOUT_PERIOD = timedelta(minutes=15)


def weigh_attempt(session: Session, user: User) -> None:
    """Take the account's row lock for this attempt and read its count and lock afresh, before the password or code
    is checked: an attempt then waits for those sent before it and is weighed against what they left.

    Read from each request's own copy of the account, a burst of sixteen guesses had all sixteen checked: none saw
    the lock the tenth one set. The lock is held until the request commits (on SQLite, the database's write lock: a
    sign-in holds it for one password hash)."""
    session.refresh(user, attribute_names=["failed_logins", "locked_until", "active"], with_for_update=True)


def login_locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def count_login_failure(session: Session, *, user: User, ip: str | None, reason: str) -> None:
    """A wrong password or code: audited, and the tenth in a row locks the account for a while.

    The database adds one to its own count: parallel guesses each read the same count as loaded and wrote it back
    plus one, so a burst of any size counted once, and an attacker sending them in bursts never met the lockout.
    """
    failures = session.execute(
        update(User)
        .where(User.id == user.id)
        .values(failed_logins=User.failed_logins + 1)
        .returning(User.failed_logins)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    set_committed_value(user, "failed_logins", failures)
    locked = failures >= LOCKOUT_THRESHOLD
    if locked:
        user.locked_until = utcnow() + LOCKOUT_PERIOD
        user.failed_logins = 0
    audit_login_failure(session, user=user, ip=ip, reason=reason, locked=locked)


def clear_login_failures(user: User) -> None:
    user.failed_logins = 0
    user.locked_until = None


def audit_login_failure(
    session: Session, *, user: User | None, ip: str | None, reason: str, locked: bool = False
) -> None:
    # The actor is anonymous: nobody has proved who they are. The typed username is not kept, since
    # it may be a mistyped password or someone else's name; the account id is, when one matched.
    record_event(
        session,
        actor=Actor.anonymous(ip),
        action="login.failed",
        object_type="user" if user is not None else None,
        object_id=user.id if user is not None else None,
        details={"reason": reason, "locked": locked},
    )
