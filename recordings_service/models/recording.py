"""Recordings and the customers they are linked to (by CRM reference only: no names or identity codes)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, LargeBinary, String, UniqueConstraint, false, func
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from recordings_service.caseless_keys import caseless_key
from recordings_service.db import Base, created_at, ulid_pk, utcnow


class RecordingStatus(StrEnum):
    STORED = "stored"
    TRANSCRIBING = "transcribing"
    TRANSCRIBED = "transcribed"
    FAILED = "failed"
    DELETED = "deleted"
    MISSING_OBJECT = "missing_object"


# The longest queue name a call is stored with (its column's width).
MAX_QUEUE = 100
# The longest agent reference.
MAX_AGENT_REF = 100
# Folding can lengthen a name threefold ("ΐ" is three characters folded; "ß" two), and composing as `caseless_key`
# does no more ("ﬃ" is "ffi"; a Devanagari letter with nukta decomposes to two): the keys' columns are that wide.
KEY_WIDTH = 3


def name_key(name: str) -> str:
    """The form a queue or agent is compared in, Unicode's canonical caseless form (`caseless_key`), as a tag's is: the
    databases' `lower()` folds ASCII alone on SQLite (and on PostgreSQL under the C locale), so "SÄHKÖ" and "sähkö"
    were two queues there, and folding case alone kept "Sähkö" typed with a + U+0308 apart from "SÄHKÖ"."""
    return caseless_key(name)


class Purpose(StrEnum):
    VERIFICATION = "verification"
    TRAINING = "training"
    QUALITY_STUDY = "quality_study"


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[ulid_pk]
    customer_ref: Mapped[str] = mapped_column(String(100), unique=True)
    objects_to_marketing: Mapped[bool] = mapped_column(default=False)
    objects_to_research: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# A typed reference is checked against known ones in any letter case (`customers.refuse_mistyped`): without this,
# each check read every customer.
Index("ix_customers_ref_lower", func.lower(Customer.customer_ref))


class Recording(Base):
    __tablename__ = "recordings"
    __table_args__ = (UniqueConstraint("source", "external_call_id", name="uq_recordings_source_call"),)
    # `erasure_kept` is the database's default on insert, read back when it is needed, not with every insert: an
    # insert then names only the columns it sets, which an older schema (a migration test's) has too.
    __mapper_args__ = {"eager_defaults": False}

    id: Mapped[ulid_pk]
    source: Mapped[str] = mapped_column(String(100))
    external_call_id: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(index=True)
    duration_s: Mapped[float]
    direction: Mapped[str] = mapped_column(String(10))
    queue: Mapped[str] = mapped_column(String(MAX_QUEUE), index=True)
    agent_ref: Mapped[str] = mapped_column(String(MAX_AGENT_REF), index=True)
    # `name_key` of each, set whenever the name is (`_keep_keys`): search and plans match a queue or agent by these.
    queue_key: Mapped[str] = mapped_column(String(KEY_WIDTH * MAX_QUEUE))
    agent_key: Mapped[str] = mapped_column(String(KEY_WIDTH * MAX_AGENT_REF))
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    channels: Mapped[int]
    agent_channel: Mapped[str | None] = mapped_column(String(5))
    # FFmpeg's demuxer name (wav, mp3, ogg, ...): playback needs it for the media type.
    container: Mapped[str] = mapped_column(String(40), default="", server_default="")
    codec: Mapped[str] = mapped_column(String(40))
    sample_rate: Mapped[int]
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    # The hash of the original as stored now: after a PCI replacement, of the card-muted copy.
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    # The store's version id of the original as put (None: not known, e.g. a multipart upload or a restore):
    # with it the retention sweep deletes the original without listing its versions.
    storage_version_id: Mapped[str | None] = mapped_column(String(1024))
    # Every version put under `derived/<id>/` is in `derived_versions` (true for recordings ingested since
    # migration 0029): the sweep then deletes the recording's objects without listing any of them.
    derived_versions_known: Mapped[bool] = mapped_column(default=True, server_default=false())
    wrapped_data_key: Mapped[bytes] = mapped_column(LargeBinary)
    master_key_id: Mapped[int] = mapped_column(BigInteger)
    notice_given: Mapped[bool]
    agreement_made: Mapped[bool | None]
    status: Mapped[str] = mapped_column(String(20), default=RecordingStatus.STORED, index=True)
    purposes: Mapped[list[str]] = mapped_column(JSON, default=list)
    retain_until: Mapped[datetime | None] = mapped_column(index=True)
    legal_hold: Mapped[bool] = mapped_column(default=False)
    restricted: Mapped[bool] = mapped_column(default=False)
    # Kept by its customer's erasure for a legal duty only (a hold, evidence of an agreement; Art. 17(3)), set by the
    # erasure: for compliance only (`recordings.in_everyday_use`). A column rather than the erasure's row looked up
    # for every call a search reads (the lookup made a supervisor's searches half as slow again at 100 000 calls).
    erasure_kept: Mapped[bool] = mapped_column(server_default=false())
    # When the call was last withheld from everyday use (restricted, kept by an erasure) or given back to it (a
    # restriction lifted): `GET /api/v1/withheld` tells a sync job's copy, made while it was in use (`withheld_feed`).
    # Not set by ingest: a call stored withheld was never in everyday use, so no copy holds it.
    withheld_changed_at: Mapped[datetime | None]
    # Card data was said on the call (found in its transcript); PCI DSS 3.3.1 forbids keeping it after
    # authorisation, so the original is replaced by a copy muted over those spans (`pci_redacted_at`),
    # keeping the hash of the original as ingested.
    card_data: Mapped[bool] = mapped_column(default=False, server_default=false())
    pci_redacted_at: Mapped[datetime | None]
    pci_original_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[created_at]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer | None] = relationship()

    @validates("queue", "agent_ref")
    def _keep_keys(self, name: str, value: str) -> str:
        # On the mapper, so that no writer (ingest, a rectification, a factory) can set a name and forget its key;
        # a writer of raw SQL (bench's seeders) calls `name_key` itself.
        setattr(self, "queue_key" if name == "queue" else "agent_key", name_key(value))
        return value

    @property
    def customer_ref(self) -> str | None:
        return self.customer.customer_ref if self.customer else None

    @property
    def sha256_at_ingest(self) -> str:
        """The SHA-256 of the audio as it was sent: muting card data (`redaction.pci`) re-hashes the stored copy."""
        return self.pci_original_sha256 or self.sha256


class DerivedVersion(Base):
    """One version the store gave a put under `derived/<recording>/` (a waveform, redacted audio, a clip)."""

    __tablename__ = "derived_versions"

    id: Mapped[ulid_pk]
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id"), index=True)
    key: Mapped[str] = mapped_column(String(1024))
    version_id: Mapped[str] = mapped_column(String(1024))
    created_at: Mapped[created_at]


# Search matches queue and agent by their keys and lists newest first: these walk one queue's or agent's calls in
# that order, where the plain indexes above would leave the planner walking every call.
Index("ix_recordings_queue_newest", Recording.queue_key, Recording.started_at, Recording.id)
Index("ix_recordings_agent_newest", Recording.agent_key, Recording.started_at, Recording.id)
# A sync job asks for the calls stored since its last run (`ingested_from`), many of them made long before (an archive
# imported late): without this the planner walks every call by start to find them.
Index("ix_recordings_created_at", Recording.created_at)
Index("ix_recordings_withheld_changed", Recording.withheld_changed_at, Recording.id)
