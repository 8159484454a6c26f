"""Signing in with a password, the holder's own password change, and logout.

Failures count towards the lockout (`recordings_service.lockout`); the second step, a TOTP code, is
`recordings_service.mfa`.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from recordings_service import accounts, password_policy
from recordings_service.audit import Actor, record_event
from recordings_service.db import utcnow
from recordings_service.lockout import (
    audit_login_failure,
    clear_login_failures,
    count_login_failure,
    login_locked,
    weigh_attempt,
)
from recordings_service.models import User


def change_password(session: Session, *, user: User, current: str, new: str, ip: str | None) -> bool:
    """The holder's own change: False (counted towards lockout, audited) when `current` is wrong.

    Every session of the account ends, so one opened by whoever knew the old password goes with it.
    """
    password_policy.check_password_policy(new, context=(user.username, user.display_name))
    weigh_attempt(session, user)
    if login_locked(user, utcnow()) or not accounts.password_matches(user.password_hash, current):
        count_login_failure(session, user=user, ip=ip, reason="bad_password")
        return False
    user.password_hash = accounts.hash_password(new)
    user.session_version += 1
    record_event(
        session,
        actor=Actor(id=user.id, name=user.username, role=user.role, ip=ip),
        action="user.password_changed",
        object_type="user",
        object_id=user.id,
    )
    return True


def end_sessions(session: Session, *, actor: Actor, user: User) -> None:
    """Log out: every login session of the account ends, not only the one asking."""
    user.session_version += 1
    record_event(session, actor=actor, action="logout", object_type="user", object_id=user.id)


def check_password_login(session: Session, *, username: str, password: str, ip: str | None) -> User | None:
    """The account if `password` is right and it may sign in; otherwise None, the failure audited.

    A locked account is refused before its hash is checked, so guessing gains nothing while locked.
    """
    user = accounts.find_user(session, username)
    now = utcnow()
    if user is None:
        accounts.take_as_long_as_a_password_check(password)
        audit_login_failure(session, user=None, ip=ip, reason="unknown_account")
        return None
    weigh_attempt(session, user)
    if login_locked(user, now):
        # Its own hash is not checked, but the answer takes as long: a quick one told a locked account (so one that
        # exists) from a name nobody has, after ten wrong guesses at each.
        accounts.take_as_long_as_a_password_check(password)
        audit_login_failure(session, user=user, ip=ip, reason="locked")
        return None
    if not accounts.password_matches(user.password_hash, password):
        count_login_failure(session, user=user, ip=ip, reason="bad_password")
        return None
    if not user.active:
        audit_login_failure(session, user=user, ip=ip, reason="disabled")
        return None
    if accounts.mfa_required(user) and not user.mfa_enrolled:
        # Only the holder enrols, through their link: a password alone (which an admin may have chosen at
        # creation) never opens the enrolment.
        audit_login_failure(session, user=user, ip=ip, reason="mfa_not_enrolled")
        return None
    return user


def record_login(session: Session, *, user: User, ip: str | None) -> None:
    """A login completed (password and, where required, TOTP): reset the failure count and audit it."""
    user.last_login_at = utcnow()
    clear_login_failures(user)
    record_event(
        session,
        actor=Actor(id=user.id, name=user.username, role=user.role, ip=ip),
        action="login.succeeded",
        object_type="user",
        object_id=user.id,
        details={"mfa": user.mfa_enrolled},
    )
