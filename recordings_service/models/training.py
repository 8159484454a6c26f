"""The training library: calls QA supervisors nominate, clips trainers cut from redacted audio, and the sets
they gather clips into, export and hand out."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from recordings_service.db import Base, created_at, ulid_pk, utcnow


class NominationKind(StrEnum):
    GOOD_EXAMPLE = "good_example"
    NEEDS_IMPROVEMENT = "needs_improvement"


class Nomination(Base):
    """A QA supervisor's mark on a call (or a span of it) for trainers; deleted with the call."""

    __tablename__ = "training_nominations"

    id: Mapped[ulid_pk]
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id"), index=True)
    start_s: Mapped[float | None]
    end_s: Mapped[float | None]
    kind: Mapped[str] = mapped_column(String(20), index=True)
    # Written for trainers, so it is stored with personal data already replaced by `[KIND]`.
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]


class TrainingClip(Base):
    """A span of a call cut from its redacted audio, stored encrypted under `derived/<recording>/clips/`.

    The clip's transcript is read from the call's redacted twin over the same span, so a rectified twin shows
    through and nothing of it outlives the call. When the call is deleted, the objects go with its `derived/`
    prefix, the row keeps only the span and why it was removed (its sets show the gap).
    """

    __tablename__ = "training_clips"

    id: Mapped[ulid_pk]
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id"), index=True)
    start_s: Mapped[float]
    end_s: Mapped[float]
    title: Mapped[str] = mapped_column(String(200))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    opus_key: Mapped[str] = mapped_column(String(200))
    opus_size: Mapped[int] = mapped_column(BigInteger)
    mp3_key: Mapped[str] = mapped_column(String(200))
    mp3_size: Mapped[int] = mapped_column(BigInteger)
    # The redactions muted inside the clip when it was cut (seconds from the call's start): a twin that
    # redacts more since makes the clip outdated until it is cut again.
    muted_spans: Mapped[list[list[float]]] = mapped_column(JSON, default=list)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[created_at]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    removed_at: Mapped[datetime | None]
    removed_reason: Mapped[str | None] = mapped_column(String(40))  # retention, erasure, deleted_by_owner

    @staticmethod
    def removal(reason: str, at: datetime) -> dict[str, Any]:
        """The values of a removed clip: it keeps its span and why it went, not what the trainer wrote about it."""
        return {"title": "", "tags": [], "notes": "", "muted_spans": [], "removed_at": at, "removed_reason": reason}


class TrainingSet(Base):
    """Clips in order, with a title and description; private to its owner unless shared with other trainers."""

    __tablename__ = "training_sets"

    id: Mapped[ulid_pk]
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    shared: Mapped[bool] = mapped_column(default=False)
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[created_at]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    items: Mapped[list[TrainingSetItem]] = relationship(
        back_populates="set", order_by="TrainingSetItem.position", cascade="all, delete-orphan"
    )


class TrainingSetItem(Base):
    __tablename__ = "training_set_items"
    __table_args__ = (
        UniqueConstraint("set_id", "position", name="uq_training_set_items_position"),
        UniqueConstraint("set_id", "clip_id", name="uq_training_set_items_clip"),
    )

    id: Mapped[ulid_pk]
    set_id: Mapped[str] = mapped_column(ForeignKey("training_sets.id"))
    clip_id: Mapped[str] = mapped_column(ForeignKey("training_clips.id"), index=True)
    position: Mapped[int]

    set: Mapped[TrainingSet] = relationship(back_populates="items")
    clip: Mapped[TrainingClip] = relationship()


class TrainingExport(Base):
    """A set's export: the clips as they stood, downloadable as a ZIP until `expires_at`.

    The ZIP is assembled from the stored clips on each download, so a clip removed since (retention,
    erasure) is never in it and no copy of a clip exists outside its call's `derived/` prefix.
    """

    __tablename__ = "training_exports"

    id: Mapped[ulid_pk]
    set_id: Mapped[str] = mapped_column(ForeignKey("training_sets.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    clip_ids: Mapped[list[str]] = mapped_column(JSON)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]
    expires_at: Mapped[datetime]
    downloads: Mapped[int] = mapped_column(default=0)
    last_download_at: Mapped[datetime | None]


class TrainingSecret(Base):
    """A secret of the training library (the agents' pseudonym key), sealed by the master key."""

    __tablename__ = "training_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    master_key_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[created_at]
