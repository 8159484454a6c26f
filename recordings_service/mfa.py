"""The second factor: TOTP seeds sealed by the master key, one-time enrolment links, MFA reset.

Only the account holder enrols. An admin (or the CLI) issues a link, shown once and valid for 24 hours; at
it the holder proves what only they hold (their current password, or the codes of their enrolled app) and
sets what is missing. An admin never learns a password or a seed, so creating an account, giving it a role
that hears calls, or resetting its password or second factor never lets the admin sign in as it.

The seed a link enrols is made for each browser that opens its page (`offered_seed`) and kept, sealed, in that
browser's session until the code from it is confirmed. It was made with the link and kept beside it, and the page
showed it to anyone holding the link without using it up: an admin who looked at the link of an account they made
read the seed its holder then enrolled, and with the link of a later password reset signed in as the holder.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from recordings_service import accounts, lockout, password_policy
from recordings_service.account_locks import locked_user
from recordings_service.audit import Actor, record_event
from recordings_service.db import utcnow
from recordings_service.errors import Conflict, Forbidden, Invalid, NotFound, Refusal
from recordings_service.models import User
from recordings_service.models.account import Role
from recordings_service.storage.encryption import DecryptionFailed, Envelope
from recordings_service.tokens import digest

ENROL_LINK_LIFETIME = timedelta(hours=24)
TOTP_ISSUER = "Callvault"
TOTP_STEP_S = 30


def seed_bound_to(user_id: str) -> str:
    """What an account's sealed seed is bound to: it opens only for its own account, copied to another row it yields
    nothing."""
    return f"users/{user_id}/totp"


def seal_seed(envelope: Envelope, user: User, seed: str) -> bytes:
    """The seed as the account's row keeps it: encrypted by the master key, bound to the account."""
    return envelope.seal_secret(seed.encode(), object_id=seed_bound_to(user.id)).wrapped


def _open(envelope: Envelope, user: User, sealed: bytes) -> str:
    return envelope.open_secret(sealed, object_id=seed_bound_to(user.id)).decode()


def totp_seed(envelope: Envelope, user: User) -> str | None:
    """The account's enrolled seed; one still in plaintext (from before 0017) is sealed on this first use."""
    if user.mfa_secret is not None:
        user.mfa_seed = seal_seed(envelope, user, user.mfa_secret)
        user.mfa_secret = None
    return _open(envelope, user, user.mfa_seed) if user.mfa_seed is not None else None


def offered_seed(envelope: Envelope, user: User, sealed: bytes | None) -> tuple[str, bytes]:
    """The seed an enrolment page offers this browser, and its sealed form for the browser's session to keep: the
    one offered to it before (`sealed`, from that session), else a new one; each browser is offered its own."""
    seed = _offered(envelope, user, sealed)
    if seed is not None and sealed is not None:
        return seed, sealed
    seed = pyotp.random_base32()
    return seed, seal_seed(envelope, user, seed)


def provisioning_uri(user: User, seed: str) -> str:
    """The otpauth:// URI an authenticator app reads from the enrolment QR code."""
    return pyotp.TOTP(seed, interval=TOTP_STEP_S).provisioning_uri(name=user.username, issuer_name=TOTP_ISSUER)


def issue_enrolment_link(session: Session, envelope: Envelope, *, actor: Actor, user_id: str) -> str:
    """A new one-time link token for the account (any earlier link stops working); shown once, stored hashed.

    An account without a second factor enrols one at the link, a seed offered by its page (`offered_seed`).
    """
    user = locked_user(session, user_id)
    if user.role == Role.SERVICE:
        raise Invalid("role", "service accounts sign in with API tokens only", why="service_tokens_only")
    if not user.active:
        raise Conflict("enable the account first", why="account_disabled")
    token = secrets.token_urlsafe(32)
    user.enrol_token_hash = digest(token)
    user.enrol_expires_at = utcnow() + ENROL_LINK_LIFETIME
    record_event(
        session,
        actor=actor,
        action="user.enrolment_link_issued",
        object_type="user",
        object_id=user.id,
        details={"enrols_mfa": not user.mfa_enrolled, "sets_password": user.password_hash is None},
    )
    return token


def user_for_link(session: Session, *, token: str, actor: Actor, lock: bool = False) -> User:
    """The account a live link belongs to, for its holder only; with `lock`, its row locked until commit.

    Unknown, used and expired links read alike. Someone signed in as another account (an admin trying the
    link they were shown) is refused, and the refusal is audited.
    """
    query = select(User).where(User.enrol_token_hash == digest(token))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    user = session.scalar(query)
    now = utcnow()
    if user is None or not user.active or user.enrol_expires_at is None or user.enrol_expires_at <= now:
        raise NotFound(
            "this enrolment link is unknown, used or expired; ask an admin for a new one", why="enrolment_link_unknown"
        )
    if actor.id is not None and actor.id != user.id:
        raise Forbidden(
            "only the account holder may use this link; sign out first",
            why="enrolment_other_account",
            refusal=Refusal(
                actor=actor,
                action="enrolment.refused",
                object_type="user",
                object_id=user.id,
                details={"reason": "signed_in_as_another"},
            ),
        )
    return user


def complete_enrolment(
    session: Session,
    envelope: Envelope,
    *,
    token: str,
    actor: Actor,
    current_password: str,
    new_password: str,
    code: str,
    offered: bytes | None = None,
) -> User | None:
    """Use a link: prove the holder, set what is missing, end every session; the link is spent.

    The holder proves themselves with the current password when the account has one, and with a code from
    their enrolled app when it has one; a new password is set when there is none, a new seed confirmed with
    a code when there is none: the seed `offered` to this browser (sealed, as `offered_seed` gave it). None when
    a password or code is wrong (counted towards the lockout, audited).
    """
    # Locked: the same link sent twice at once (two tabs, a double click) was used by both, each setting its own
    # password; the later now waits and finds the link spent.
    user = user_for_link(session, token=token, actor=actor, lock=True)
    if user.password_hash is None:
        password_policy.check_password_policy(new_password, context=(user.username, user.display_name))
    if lockout.login_locked(user, utcnow()):
        lockout.audit_login_failure(session, user=user, ip=actor.ip, reason="locked")
        return None
    if user.password_hash is not None and not accounts.password_matches(user.password_hash, current_password):
        lockout.count_login_failure(session, user=user, ip=actor.ip, reason="bad_password")
        return None
    enrolling = not user.mfa_enrolled
    seed = _offered(envelope, user, offered) if enrolling else totp_seed(envelope, user)
    step = accepted_step(seed, code, now=utcnow(), last_step=None if enrolling else user.mfa_last_step)
    if step is None or not (enrolling or _claim_step(session, user, step)):
        lockout.count_login_failure(session, user=user, ip=actor.ip, reason="bad_totp")
        return None
    holder = Actor(id=user.id, name=user.username, role=user.role, ip=actor.ip)
    if user.password_hash is None:
        user.password_hash = accounts.hash_password(new_password)
        record_event(session, actor=holder, action="user.password_set", object_type="user", object_id=user.id)
    if enrolling:
        user.mfa_seed = offered
        record_event(session, actor=holder, action="mfa.enrolled", object_type="user", object_id=user.id)
    user.mfa_last_step = step
    user.enrol_token_hash = user.enrol_expires_at = None
    user.session_version += 1
    lockout.clear_login_failures(user)
    return user


def _offered(envelope: Envelope, user: User, sealed: bytes | None) -> str | None:
    """The seed offered to the browser enrolling, if it was offered one for this account (one sealed for another
    account, or before a key rotation, opens as none)."""
    if sealed is None:
        return None
    try:
        return _open(envelope, user, sealed)
    except DecryptionFailed:
        return None


def reset_mfa(session: Session, *, actor: Actor, user_id: str) -> User:
    """Remove the account's second factor and end its sessions; the holder enrols again through a new link."""
    user = locked_user(session, user_id)
    if actor.id is not None and actor.id == user.id:
        raise Conflict("you cannot reset your own second factor; another admin must", why="own_second_factor")
    if user.role == Role.SERVICE:
        raise Invalid("role", "service accounts have no second factor", why="service_no_second_factor")
    accounts.refuse_second_reset(session, actor=actor, user=user, resetting="mfa")
    user.mfa_secret = None
    user.mfa_seed = None
    user.mfa_last_step = None
    user.session_version += 1
    record_event(session, actor=actor, action="user.mfa_reset", object_type="user", object_id=user.id)
    return user


def check_totp_login(session: Session, envelope: Envelope, *, user: User, code: str, ip: str | None) -> bool:
    """The second step of a login: a fresh TOTP code; failures count towards the same lockout."""
    lockout.weigh_attempt(session, user)
    if lockout.login_locked(user, utcnow()) or not user.active:
        lockout.audit_login_failure(session, user=user, ip=ip, reason="locked" if user.active else "disabled")
        return False
    step = accepted_step(totp_seed(envelope, user), code, now=utcnow(), last_step=user.mfa_last_step)
    if step is None or not _claim_step(session, user, step):
        lockout.count_login_failure(session, user=user, ip=ip, reason="bad_totp")
        return False
    return True


def _claim_step(session: Session, user: User, step: int) -> bool:
    """Mark the code's time step used, unless another sign-in has used it or a later one meanwhile.

    Decided by the database, not by the row as loaded: two sign-ins sending one code at once (a code seen over the
    holder's shoulder, or relayed by a phishing page) each found it unused, and both were let in.
    """
    claimed = session.execute(
        update(User)
        .where(User.id == user.id, or_(User.mfa_last_step.is_(None), User.mfa_last_step < step))
        .values(mfa_last_step=step)
        .returning(User.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if claimed is None:
        return False
    set_committed_value(user, "mfa_last_step", step)
    return True


def accepted_step(seed: str | None, code: str, *, now: datetime, last_step: int | None) -> int | None:
    """The time step `code` belongs to (one step of clock drift allowed), never one already used."""
    code = code.strip().replace(" ", "")
    if not seed or len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(seed, interval=TOTP_STEP_S)
    current = int(now.timestamp()) // TOTP_STEP_S
    for step in (current - 1, current, current + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.at(step * TOTP_STEP_S), code):
            return step
    return None
