"""Research institutes, the batches of pseudonymised calls sent to them, and the custody of every copy."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, LargeBinary, String, Text, UniqueConstraint, update
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from recordings_service.db import Base, created_at, ulid_pk


class SafeguardKind(StrEnum):
    """How personal data may go to a country outside the EU/EEA (GDPR Art. 45 or 46(2)(c))."""

    ADEQUACY = "adequacy"
    SCC = "scc"


class BatchState(StrEnum):
    DRAFT = "draft"  # selected, waiting for a second compliance user
    APPROVED = "approved"  # waiting for the jobs process to build the package
    BUILDING = "building"
    READY = "ready"  # downloadable inside the access window
    EXPIRED = "expired"  # the window ended: the package is deleted, the partner owes a confirmation
    CLOSED = "closed"  # custody ended (see ClosedReason); the pseudonym key is gone
    OVERDUE = "overdue"  # study end + grace passed without an accepted confirmation
    REJECTED = "rejected"  # the second compliance user refused the draft


class ClosedReason(StrEnum):
    """Why a batch's custody ended."""

    CONFIRMED = "confirmed"  # compliance accepted the institute's confirmation of return or destruction
    # The access window ended and no byte of the package was ever served: the institute never held a copy.
    NEVER_DOWNLOADED = "never_downloaded"
    # A build ended with no call: every one was withdrawn (objections since selection, say); nothing was offered.
    ALL_WITHDRAWN = "all_withdrawn"


class CustodyMethod(StrEnum):
    RETURNED = "returned"
    DESTROYED = "destroyed"


class Institute(Base):
    """A research institute: a processor under an agreement (Art. 28), with a transfer safeguard outside the EEA."""

    __tablename__ = "research_institutes"

    id: Mapped[ulid_pk]
    name: Mapped[str] = mapped_column(String(200), unique=True)
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    agreement_ref: Mapped[str] = mapped_column(String(200))
    agreement_date: Mapped[date]
    contact: Mapped[str] = mapped_column(String(254))
    safeguard_kind: Mapped[str | None] = mapped_column(String(16))
    safeguard_reference: Mapped[str | None] = mapped_column(String(200))
    safeguard_date: Mapped[date | None]
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]


class ResearchBatch(Base):
    """One study's selection of calls, its approval, package, access window and custody state."""

    __tablename__ = "research_batches"

    id: Mapped[ulid_pk]
    study: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)
    institute_id: Mapped[str] = mapped_column(ForeignKey("research_institutes.id"), index=True)
    # The criteria as given (dates as ISO strings), the seed among them, so a selection can be reproduced.
    criteria: Mapped[dict[str, Any]] = mapped_column(JSON)
    audio: Mapped[str] = mapped_column(String(16))  # redacted or original
    metadata_fields: Mapped[list[str]] = mapped_column(JSON)
    study_end: Mapped[date]
    access_start: Mapped[datetime]
    access_end: Mapped[datetime] = mapped_column(index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    selected: Mapped[int]
    excluded: Mapped[dict[str, int]] = mapped_column(JSON)  # reason -> count
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]
    approved_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None]
    rejected_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    # The HMAC key of this batch's pseudonyms, wrapped by the master key; set to NULL when the batch closes.
    pseudonym_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    pseudonym_master_key_id: Mapped[int | None] = mapped_column(BigInteger)
    # The build, leased like transcription jobs; progress counts items written.
    build_done: Mapped[int] = mapped_column(default=0)
    build_attempts: Mapped[int] = mapped_column(default=0)
    build_error: Mapped[str | None] = mapped_column(Text)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None]
    package_key: Mapped[str | None] = mapped_column(String(200))
    package_sha256: Mapped[str | None] = mapped_column(String(64))  # of the ZIP as the partner receives it
    package_size: Mapped[int | None] = mapped_column(BigInteger)
    package_wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    package_master_key_id: Mapped[int | None] = mapped_column(BigInteger)
    built_at: Mapped[datetime | None]
    items_withdrawn: Mapped[int] = mapped_column(default=0)  # excluded at build time (e.g. objected since)
    # Set once every version of every object under exports/<batch>/ is deleted.
    package_purged_at: Mapped[datetime | None]
    expired_at: Mapped[datetime | None]
    downloads: Mapped[int] = mapped_column(default=0)
    last_download_at: Mapped[datetime | None]
    reminders_sent: Mapped[int] = mapped_column(default=0)
    last_reminder_at: Mapped[datetime | None]
    # A customer's erasure request, objection or restriction after the institute downloaded their calls: it must be
    # told (Art. 17(2), 19, 21) and acknowledges each flag (`acknowledged_at`, `acknowledged_by`).
    follow_up: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    closed_reason: Mapped[str | None] = mapped_column(String(32))  # a ClosedReason; None while open
    # Set when compliance ended the access window early (`research.early_end`): `access_end` is then that moment.
    access_ended_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    access_ended_reason: Mapped[str | None] = mapped_column(Text)

    institute: Mapped[Institute] = relationship()

    def close(self, reason: ClosedReason, *, at: datetime, by: str | None) -> None:
        """Closed for `reason`, by a person or (None) the jobs process; its pseudonyms are forgotten with it."""
        self.state = BatchState.CLOSED
        self.closed_at, self.closed_by, self.closed_reason = at, by, reason
        self.forget_pseudonyms()

    def forget_pseudonyms(self) -> None:
        """Destroy the pseudonym key and the pseudonyms it made, kept with the items and the follow-ups: with them, a
        copy the institute kept could be linked back to its calls and customers without the key (they were kept)."""
        self.pseudonym_key = None
        self.follow_up = [{**flag, "customer_pseudonyms": [], "call_pseudonyms": []} for flag in self.follow_up or []]
        session = object_session(self)
        if session is not None:
            session.flush()  # a batch not yet flushed has no id for the items' clause to name
            forgotten = {"call_pseudonym": None, "customer_pseudonym": None, "agent_pseudonym": None}
            session.execute(update(BatchItem).where(BatchItem.batch_id == self.id).values(forgotten))


class BatchItem(Base):
    """A call in a batch and the pseudonyms it goes out under; kept after the call is deleted (custody)."""

    __tablename__ = "research_batch_items"
    __table_args__ = (UniqueConstraint("batch_id", "position", name="position"),)

    id: Mapped[ulid_pk]
    batch_id: Mapped[str] = mapped_column(ForeignKey("research_batches.id"), index=True)
    position: Mapped[int]
    # No foreign keys: the custody record outlives the recording and customer rows.
    recording_id: Mapped[str] = mapped_column(String(26), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(26), index=True)
    # Forgotten (None) with the batch's key: once it is closed or rejected (`ResearchBatch.forget_pseudonyms`).
    call_pseudonym: Mapped[str | None] = mapped_column(String(40))
    customer_pseudonym: Mapped[str | None] = mapped_column(String(40))
    agent_pseudonym: Mapped[str | None] = mapped_column(String(40))
    withdrawn_reason: Mapped[str | None] = mapped_column(String(40))  # excluded when the package was built
    audio_sha256: Mapped[str | None] = mapped_column(String(64))


class CustodyConfirmation(Base):
    """The partner's confirmation that every copy was returned or destroyed, and compliance's decision."""

    __tablename__ = "research_confirmations"

    id: Mapped[ulid_pk]
    batch_id: Mapped[str] = mapped_column(ForeignKey("research_batches.id"), index=True)
    method: Mapped[str] = mapped_column(String(16))
    confirmed_on: Mapped[date]
    signer: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    statement: Mapped[str] = mapped_column(Text)
    certificate_key: Mapped[str | None] = mapped_column(String(200))
    certificate_sha256: Mapped[str | None] = mapped_column(String(64))
    certificate_size: Mapped[int | None] = mapped_column(BigInteger)
    certificate_wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    certificate_master_key_id: Mapped[int | None] = mapped_column(BigInteger)
    submitted_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[created_at]
    decision: Mapped[str | None] = mapped_column(String(16))  # accepted or rejected; None while pending
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    rejection_reason: Mapped[str | None] = mapped_column(Text)
