"""Retention policies, legal holds, and what remains of deleted recordings (tombstones, deletion receipts)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from recordings_service.db import Base, ulid_pk, utcnow
from recordings_service.models.recording import Customer


class RetentionRule(StrEnum):
    """The keys of the policy table: the three purposes, the no-agreement fallback and the global cap."""

    VERIFICATION = "verification"  # a call where an agreement was made
    TRAINING = "training"
    QUALITY_STUDY = "quality_study"
    NO_AGREEMENT = "no_agreement"  # no agreement was made and no other purpose applies
    MAXIMUM = "maximum"  # no policy may exceed it, and no recording is kept longer


class PeriodUnit(StrEnum):
    DAYS = "days"
    MONTHS = "months"


class RetentionPolicy(Base):
    """How long recordings kept for one purpose live, counted from the call's start, and why (Art. 30)."""

    __tablename__ = "retention_policies"

    rule: Mapped[str] = mapped_column(String(32), primary_key=True)
    keep: Mapped[int]
    unit: Mapped[str] = mapped_column(String(8))
    basis: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class LegalHold(Base):
    """A hold on one recording or on every recording of a customer; active until released."""

    __tablename__ = "legal_holds"
    __table_args__ = (CheckConstraint("(recording_id IS NULL) <> (customer_id IS NULL)", name="one_target"),)

    id: Mapped[ulid_pk]
    recording_id: Mapped[str | None] = mapped_column(ForeignKey("recordings.id"), index=True)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    placed_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    released_at: Mapped[datetime | None] = mapped_column(index=True)
    release_reason: Mapped[str | None] = mapped_column(Text)

    customer: Mapped[Customer | None] = relationship()

    @property
    def customer_ref(self) -> str | None:
        return self.customer.customer_ref if self.customer else None

    @property
    def active(self) -> bool:
        return self.released_at is None


class Tombstone(Base):
    """What remains of a deleted recording: dates, purposes, reason and who; no personal data."""

    __tablename__ = "tombstones"

    recording_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    started_at: Mapped[datetime]
    purposes: Mapped[list[str]] = mapped_column(JSON, default=list)
    retain_until: Mapped[datetime | None]
    deleted_at: Mapped[datetime] = mapped_column(index=True)
    reason: Mapped[str] = mapped_column(String(16))
    deleted_by: Mapped[str] = mapped_column(String(64))


class DeletionReceipt(Base):
    """One per sweep run (or erasure): what was deleted, counted by kind, and how long it took."""

    __tablename__ = "deletion_receipts"

    id: Mapped[ulid_pk]
    kind: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(index=True)
    finished_at: Mapped[datetime]
    duration_s: Mapped[float]
    recordings: Mapped[int]
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    first_recording_id: Mapped[str | None] = mapped_column(String(26))
    last_recording_id: Mapped[str | None] = mapped_column(String(26))
    actor: Mapped[str] = mapped_column(String(64))
