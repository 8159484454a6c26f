"""The audit trail: an append-only, hash-chained log of every access and change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from recordings_service.db import Base, ulid_pk, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[ulid_pk]
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[str | None] = mapped_column(String(26), index=True)
    actor_name: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64), index=True)
    ip: Mapped[str | None] = mapped_column(String(45))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The HMAC key that signed the hash (see `audit.AuditKeys`); None: a plain SHA-256 hash, written before
    # migration 0018 or by a process without CALLVAULT_AUDIT_KEY.
    key_id: Mapped[str | None] = mapped_column(String(16))


# A person's events are found by account id or, in any case, by the name kept (`audit_search`): with only the id
# indexed, that OR read the whole trail.
Index("ix_audit_events_actor_name", func.lower(AuditEvent.actor_name))


class AuditEventRecording(Base):
    """A recording an event names in its details (a search that showed its words), so that the recording's trail
    lists the event too: an index of the chained details, not part of what the chain signs."""

    __tablename__ = "audit_event_recordings"

    event_id: Mapped[str] = mapped_column(ForeignKey("audit_events.id"), primary_key=True)
    recording_id: Mapped[str] = mapped_column(String(26), primary_key=True, index=True)


class AuditChainHead(Base):
    """One row holding the chain's last sequence number and hash.

    Appending updates this row first, which serialises writers on every backend (a row lock on
    PostgreSQL, the write lock on SQLite), so two transactions can never chain onto the same event.
    """

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))
    # The key that signed the newest event: an event signed with another registers its key (`AuditSigningKey`).
    key_id: Mapped[str | None] = mapped_column(String(16))


class AuditSigningKey(Base):
    """A key that signed events of the trail (its id, `audit.key_id`), registered with the first event it signs after
    another key's (migration 0047 registers those of the events before it): every process must hold each of them, as
    its key or a retired one, or `audit verify` would find the chain broken at the first event the missing one
    signed."""

    __tablename__ = "audit_signing_keys"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
