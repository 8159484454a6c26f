"""API tokens: at least 256 random bits, stored as SHA-256, scoped, expiring, revocable, shown once."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from recordings_service.account_names import refuse_invisible
from recordings_service.audit import Actor, record_event
from recordings_service.db import utcnow
from recordings_service.errors import Conflict, Invalid, NotFound, Refusal, Unauthenticated
from recordings_service.models import ApiToken, User
from recordings_service.permissions import TOKEN_SCOPES, Permission, role_permissions

# last_used_at is for spotting unused tokens, not an access log (the audit trail is): writing it at most
# once a minute spares a busy ingest client a database commit on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
TOKEN_PREFIX = "cvt_"  # noqa: S105 — a marker that makes leaked tokens easy to scan for, not a secret
# Scopes that may not live long: a leaked compliance token can place holds and change retention, a leaked
# research token can approve exports.
MAX_LIFETIME = {"compliance": timedelta(days=30), "research": timedelta(days=30)}
# Every token expires, so a forgotten one stops working by itself; the telephony system's ingest token is
# renewed once a year, as a change there needs planning.
DEFAULT_LIFETIME = timedelta(days=90)
DEFAULT_LIFETIMES = {"ingest": timedelta(days=365), **MAX_LIFETIME}
# Any other token lives two years at most: one meant to live longer is one nobody will remember to revoke.
LONGEST_LIFETIME = timedelta(days=2 * 365)
MAX_SOURCE_CHARS = 100  # as Recording.source


def digest(token: str) -> str:
    """The SHA-256 a secret token is stored and looked up as (the token has 256 random bits: no salt needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session,
    *,
    actor: Actor,
    user: User,
    scope: str,
    lifetime: timedelta | None = None,
    source: str | None = None,
) -> tuple[ApiToken, str]:
    """A new token for `user`; the plain token is returned only here and never stored.

    An ingest token ingests only for its `source` (without one, it is refused every ingest).

    Without `lifetime` it lives `DEFAULT_LIFETIMES[scope]` (else `DEFAULT_LIFETIME`); a scope in `MAX_LIFETIME`
    lives no longer than that, any other no longer than `LONGEST_LIFETIME`.
    """
    if scope not in TOKEN_SCOPES:
        raise Invalid("scope", f"unknown scope {scope!r}; one of {', '.join(sorted(TOKEN_SCOPES))}")
    if not user.active:
        # It would not work now, and would start working, unnoticed, the day the account is enabled again.
        raise Conflict(f"{user.username} is disabled: enable the account before giving it a token")
    if lifetime is None:
        lifetime = DEFAULT_LIFETIMES.get(scope, DEFAULT_LIFETIME)
    longest = MAX_LIFETIME.get(scope, LONGEST_LIFETIME)
    if lifetime > longest:
        raise Invalid("lifetime", f"{_a(scope)} token lives at most {longest.days} days", code="too_long")
    if lifetime <= timedelta(0):
        raise Invalid("lifetime", "must be positive", code="out_of_range")
    if source is not None and scope != "ingest":
        raise Invalid("source", "only an ingest token is bound to a source", code="not_allowed")
    # As ingest reads a call's `source`: bound to "pbx " the token was refused every call, "pbx " and "pbx" alike.
    source = source.strip() if source is not None else None
    if source is not None and not 0 < len(source) <= MAX_SOURCE_CHARS:
        raise Invalid("source", f"a source has 1 to {MAX_SOURCE_CHARS} characters", code="invalid_length")
    if source is not None:
        refuse_invisible(source, field="source", what="a source")
    # A token acts with role ∩ scope: a scope the role shares nothing with makes a token that can do nothing.
    if not (role_permissions(user.role) & TOKEN_SCOPES[scope]) - {Permission.PUBLIC}:
        raise Invalid("scope", f"{_a(user.role)} account can never use {_a(scope)} token", code="not_allowed")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        scope=scope,
        source=source,
        token_hash=digest(plain),
        expires_at=utcnow() + lifetime,
    )
    session.add(token)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="token.created",
        object_type="api_token",
        object_id=token.id,
        details={"user_id": user.id, "scope": scope, "source": source},
    )
    return token, plain


def authenticate_token(session: Session, plain: str, *, ip: str | None = None, now: datetime | None = None) -> ApiToken:
    """The live token matching `plain` (its user active), with its last-used time updated.

    Any other token is `Unauthenticated`, with a `token.refused` event saying why (unknown, revoked, expired, or its
    account disabled): a revoked or expired token still in use is a credential that has leaked or been forgotten.
    """
    moment = now or utcnow()
    # With its account in the same statement: every request asks whether the account is active, and for its role.
    token = session.scalar(
        select(ApiToken).options(joinedload(ApiToken.user)).where(ApiToken.token_hash == digest(plain))
    )
    if token is None:
        raise _refused(None, "unknown", ip)
    if (reason := dead_token_reason(token, now=moment)) is not None:
        raise _refused(token, reason, ip)
    if token.last_used_at is None or moment - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = moment
    return token


def dead_token_reason(token: ApiToken, *, now: datetime) -> str | None:
    """Why `token` no longer works (`account_disabled`, `revoked`, `expired`), or None while it does."""
    # Before "revoked": disabling an account also revokes its tokens, and the trail should say it was disabled.
    if not token.user.active:
        return "account_disabled"
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return None


def _refused(token: ApiToken | None, reason: str, ip: str | None) -> Unauthenticated:
    # Nobody has proved who they are, so the actor is anonymous; the token's id is kept when one matched, never
    # what was presented.
    refusal = Refusal(
        Actor.anonymous(ip),
        "token.refused",
        "api_token" if token is not None else None,
        token.id if token is not None else None,
        {"reason": reason},
    )
    return Unauthenticated("the bearer token is unknown, revoked or expired", refusal=refusal)


def revoke_token(session: Session, *, actor: Actor, token_id: str, user_id: str | None = None) -> ApiToken:
    """Revoke a token (idempotent: revoked already, nothing is written); with `user_id`, only if it belongs to that
    user. Its row is locked and read afresh, so two revocations at once write one `token.revoked`, not two."""
    if token_id.startswith(TOKEN_PREFIX):
        # The token itself (one found leaked, in a log or a repository): found by its hash, never said back, as an
        # error message would go to a terminal's scrollback, a cron mail or a log.
        token_id = session.scalar(select(ApiToken.id).where(ApiToken.token_hash == digest(token_id))) or ""
        if not token_id:
            raise NotFound("no token has that value (revoked tokens are kept: it was never issued here)")
    token = session.get(ApiToken, token_id, with_for_update=True, populate_existing=True)
    if token is None or (user_id is not None and token.user_id != user_id):
        raise NotFound(f"token {token_id} not found")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record_event(session, actor=actor, action="token.revoked", object_type="api_token", object_id=token.id)
    return token


def revoke_live_tokens(session: Session, *, actor: Actor, user: User, reason: str) -> None:
    """Revoke every token of `user` that still works, each audited with `reason`."""
    now = utcnow()
    live = session.scalars(
        select(ApiToken)
        .where(
            ApiToken.user_id == user.id,
            ApiToken.revoked_at.is_(None),
            or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
        )
        .with_for_update()  # one being revoked on its own meanwhile is left to that revocation
        .execution_options(populate_existing=True)
    ).all()
    for token in live:
        token.revoked_at = now
        record_event(
            session,
            actor=actor,
            action="token.revoked",
            object_type="api_token",
            object_id=token.id,
            details={"reason": reason},
        )


def list_tokens(session: Session, *, user_id: str | None = None) -> Sequence[ApiToken]:
    """A user's tokens (everyone's without `user_id`), newest first; revoked and expired ones too (history)."""
    query = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return session.scalars(query).all()


def list_live_tokens(session: Session, *, now: datetime) -> Sequence[ApiToken]:
    """Tokens still usable, soonest expiry first (those that never expire last): what the admin must renew. A disabled
    account's tokens do not work, so they are not listed."""
    return session.scalars(
        select(ApiToken)
        .join(User, User.id == ApiToken.user_id)
        .where(
            ApiToken.revoked_at.is_(None),
            or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
            User.active.is_(True),
        )
        .order_by(ApiToken.expires_at.is_(None), ApiToken.expires_at, ApiToken.created_at)
    ).all()


def _a(word: str) -> str:
    """The word after its indefinite article ("an ingest", "a compliance"): role and scope names are English."""
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"
