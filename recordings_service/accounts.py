"""Use cases for staff and partner accounts."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.errors import Conflict, Invalid
from recordings_service.models import User
from recordings_service.models.account import Role

MIN_PASSWORD = 12
MAX_PASSWORD = 128
# argon2id with ASVS-level cost: 46 MiB memory, t=1 (OWASP's first recommended configuration).
_hasher = PasswordHasher(time_cost=1, memory_cost=47104, parallelism=1)


def hash_password(password: str) -> str:
    check_password_policy(password)
    return _hasher.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password_policy(password: str) -> None:
    """Length only (12–128 characters), no composition rules, as NIST SP 800-63B and ASVS advise."""
    if len(password) < MIN_PASSWORD:
        raise Invalid("password", f"must be at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise Invalid("password", f"must be at most {MAX_PASSWORD} characters")


def create_user(
    session: Session,
    *,
    actor: Actor,
    username: str,
    role: str,
    password: str | None,
    display_name: str = "",
) -> User:
    """Create an account; staff and partners get a password, service accounts use API tokens only."""
    try:
        role_value = Role(role)
    except ValueError:
        raise Invalid("role", f"unknown role {role!r}; one of {', '.join(r.value for r in Role)}") from None
    username = username.strip()
    if not username or len(username) > 64 or not username.replace(".", "").replace("-", "").replace("_", "").isalnum():
        raise Invalid("username", "use 1–64 letters, digits, '.', '-' or '_'")
    if session.scalar(select(User).where(func.lower(User.username) == username.lower())) is not None:
        raise Conflict(f"user {username} already exists")
    if role_value is Role.SERVICE:
        password_hash = None
    elif password is None:
        raise Invalid("password", "is required for this role")
    else:
        password_hash = hash_password(password)
    user = User(username=username, display_name=display_name, role=role_value.value, password_hash=password_hash)
    session.add(user)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="user.created",
        object_type="user",
        object_id=user.id,
        details={"role": role_value.value},
    )
    return user


def has_admin(session: Session) -> bool:
    return session.scalar(select(User.id).where(User.role == Role.ADMIN.value).limit(1)) is not None
