"""Locking accounts while they change: two admins acting on one account at once (two tabs, two people) act one
after the other, the later on what the earlier left, and never both take out the last active administrator."""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from recordings_service.errors import Conflict, NotFound
from recordings_service.models import User
from recordings_service.models.account import Role


def locked_user(session: Session, user_id: str, *, with_admins: bool = False) -> User:
    """The account read afresh, its row locked until the transaction ends: two admins changing one account at once
    (two tabs, two people) change it one after the other, the later on what the earlier left. Without it both read
    it as it was: an admin resetting the password in one tab and the second factor in another passed the check
    that refuses one admin both resets, and two disables each wrote `user.disabled`. On SQLite the locking read
    takes the database's write lock.

    `with_admins`, for a change that may take an administrator out (`keep_an_active_admin` counts them): the active
    administrators' rows are locked in the same statement, in id order, so an admin disabling another while that one
    disables them locks the same rows in the same order, and neither waits on the other for good. Only then: locked
    by every change, as after an account's creation was audited, they waited for an admin signing in, who held their
    own row and waited for the audit chain's head that the creation held (a deadlock on PostgreSQL).
    """
    target = User.id == user_id
    if with_admins:
        target = or_(target, and_(User.role == Role.ADMIN.value, User.active.is_(True)))
    session.execute(select(User.id).where(target).order_by(User.id).with_for_update())
    user = session.get(User, user_id, populate_existing=True)
    if user is None:
        raise NotFound(f"user {user_id} not found", why="user_not_found")
    return user


def keep_an_active_admin(session: Session, user: User, change: str, *, why: str) -> None:
    """Refuse to take `user` out of the active administrators when nobody else is one: nobody could manage accounts.

    The active administrators' rows are locked before they are counted (on SQLite the savepoint takes the write
    lock), so two admins disabling or demoting each other at once cannot each count the other as the one who stays:
    the later waits for the earlier and counts again.
    """
    if not user.active or user.role != Role.ADMIN:
        return
    with session.begin_nested():
        active_admins = session.scalars(
            select(User.id).where(User.role == Role.ADMIN.value, User.active.is_(True)).with_for_update()
        ).all()
    if len(active_admins) <= 1:
        raise Conflict(f"the last active administrator cannot be {change}: make another one first", why=why)
