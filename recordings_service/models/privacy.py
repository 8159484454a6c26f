"""Retention policies, legal holds, and what remains of deleted recordings (tombstones, deletion receipts)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ColumnElement,
    Exists,
    ForeignKey,
    LargeBinary,
    String,
    Text,
    and_,
    exists,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from recordings_service.db import Base, created_at, ulid_pk, utcnow
from recordings_service.models.recording import Customer, Recording


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
    # Set once every object version of the recording is gone; until then the next sweep lists and deletes them.
    objects_purged_at: Mapped[datetime | None] = mapped_column(index=True)
    # Set when a deletion receipt names the recording. A sweep killed after committing deletions but before
    # writing its receipt leaves them unnamed; the next sweep's receipt names them.
    in_receipt: Mapped[bool] = mapped_column(default=False)


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


class RetentionCheckRun(Base):
    """The latest proofs (`overdue`, `orphans`): listing the whole store is too slow for every page view."""

    __tablename__ = "retention_checks"

    id: Mapped[ulid_pk]
    checked_at: Mapped[datetime] = mapped_column(index=True)
    overdue: Mapped[int]
    orphans: Mapped[int]
    duration_s: Mapped[float]
    actor: Mapped[str] = mapped_column(String(64))


class SubjectRequestKind(StrEnum):
    """The data subject's rights Callvault serves (GDPR Art. 15, 21, 16, 18 and 17)."""

    ACCESS = "access"
    OBJECTION = "objection"
    RECTIFICATION = "rectification"
    RESTRICTION = "restriction"
    ERASURE = "erasure"


class PackageState(StrEnum):
    """Where an access request's package stands: built by the jobs process, downloadable until it expires."""

    QUEUED = "queued"
    BUILDING = "building"
    READY = "ready"
    EXPIRED = "expired"
    FAILED = "failed"
    # Deleted before its time because the customer's recordings were erased; never built again.
    WITHDRAWN = "withdrawn"


class SubjectRequest(Base):
    """A data subject's request about their recordings, with its deadline and, for access, its package."""

    __tablename__ = "subject_requests"

    id: Mapped[ulid_pk]
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime]
    due_at: Mapped[datetime] = mapped_column(index=True)
    extended_until: Mapped[datetime | None]
    extension_reason: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None] = mapped_column(index=True)
    lifted_at: Mapped[datetime | None]  # a restriction's end
    chargeable: Mapped[bool] = mapped_column(default=False)
    # Ids, reasons and counts only (e.g. erasure: deleted ids, and each kept recording with its reason).
    outcome: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]
    package_state: Mapped[str | None] = mapped_column(String(16), index=True)
    package_key: Mapped[str | None] = mapped_column(String(200))
    package_sha256: Mapped[str | None] = mapped_column(String(64))  # of the ZIP as the subject receives it
    package_size: Mapped[int | None] = mapped_column(BigInteger)
    package_wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    package_master_key_id: Mapped[int | None] = mapped_column(BigInteger)
    package_ready_at: Mapped[datetime | None]
    package_expires_at: Mapped[datetime | None] = mapped_column(index=True)
    package_attempts: Mapped[int] = mapped_column(default=0)
    package_error: Mapped[str | None] = mapped_column(Text)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None]

    customer: Mapped[Customer] = relationship()

    @property
    def customer_ref(self) -> str:
        return self.customer.customer_ref

    @property
    def deadline(self) -> datetime:
        """The date the answer is due: the extended one when the deadline was extended."""
        return self.extended_until or self.due_at

    @property
    def open(self) -> bool:
        return self.completed_at is None

    @property
    def withdrawn(self) -> bool:
        return bool(self.outcome.get("withdrawn"))


def not_withdrawn() -> ColumnElement[bool]:
    """A subject request not withdrawn as registered by mistake (`privacy.withdrawal`): a withdrawn one is closed with
    nothing carried out, and nothing follows from it (no restriction in force, no erasure asked for)."""
    withdrawn: ColumnElement[bool | None] = SubjectRequest.outcome["withdrawn"].as_boolean()
    return withdrawn.is_not(True)


def customer_asked_for_erasure() -> Exists:
    """Whether the recording's customer asked for erasure of it: still pending, or done and the call one it kept for
    the legal duty that kept it (a hold, evidence of an agreement), which allows no other use of it (Art. 17(3)).
    Calls the customer makes after it was carried out are not its concern."""
    return exists().where(_erasure_of_the_customer(), or_(SubjectRequest.completed_at.is_(None), _kept_by_it()))


def erasure_keeping() -> ColumnElement[bool]:
    """An erasure of the recording's customer answered after it was recorded: the recording is one it kept for a
    legal duty (a hold, evidence of an agreement; `privacy.erasure`), as every other call of theirs is gone. Or one
    answered after the call was made, which ingest took in later only as the erasure keeps such a call
    (`erasure_kept`; an archive imported after the erasure)."""
    return and_(_erasure_of_the_customer(), _kept_by_it())


def _erasure_of_the_customer() -> ColumnElement[bool]:
    return and_(
        SubjectRequest.customer_id == Recording.customer_id,
        SubjectRequest.kind == SubjectRequestKind.ERASURE,
        not_withdrawn(),
    )


def _kept_by_it() -> ColumnElement[bool]:
    return or_(
        SubjectRequest.completed_at >= Recording.created_at,
        and_(Recording.erasure_kept.is_(True), SubjectRequest.completed_at > Recording.started_at),
    )


class SubjectCorrection(Base):
    """One rectified value with the value it replaced: recording metadata, or one transcript segment's text."""

    # A segment correction holds what was said: it goes with its transcript when the recording is deleted.

    __tablename__ = "subject_corrections"

    id: Mapped[ulid_pk]
    request_id: Mapped[str] = mapped_column(ForeignKey("subject_requests.id"), index=True)
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id"), index=True)
    transcript_id: Mapped[str | None] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(40))  # a metadata field, or "segment"
    segment: Mapped[int | None]
    previous: Mapped[Any] = mapped_column(JSON, nullable=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    corrected_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    corrected_at: Mapped[datetime] = mapped_column(default=utcnow)
