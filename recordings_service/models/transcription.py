"""Transcripts, and the transcription work items that jobs processes claim with leases."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ColumnElement, ForeignKey, LargeBinary, String, Text, and_, cast, or_
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column

from recordings_service.db import Base, created_at, ulid_pk, utcnow


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class TranscriptionJob(Base):
    __tablename__ = "transcription_jobs"

    id: Mapped[ulid_pk]
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id"), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=JobState.QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None]
    progress_s: Mapped[float] = mapped_column(default=0.0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[created_at]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Transcript(Base):
    """The machine transcript of one recording; its segments keep speaker, timings, words and trust signals.

    The segments, and their redacted twin, are sealed under the recording's data key: read and write them
    only through `recordings_service.transcription.transcripts` (`segments_of`, `twin_of`, `seal_segments`).
    """

    __tablename__ = "transcripts"

    id: Mapped[ulid_pk]
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id"), unique=True)
    engine: Mapped[str] = mapped_column(String(40))
    model: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8))
    # What auto-detection answered, when it ran; None when the language was forced.
    detected_language: Mapped[str | None] = mapped_column(String(8))
    # Encrypted JSON of the segments and of the PII-redacted twin (for training and research); a twin of
    # None means redaction has not made one.
    sealed_segments: Mapped[bytes | None] = mapped_column(LargeBinary)
    sealed_redacted_segments: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Rows written before sealing keep their text here in clear until `callvault transcripts encrypt`
    # seals them; sealing empties both.
    plain_segments: Mapped[list[dict[str, Any]]] = mapped_column("segments", JSON, default=list)
    # None is SQL NULL here; rows sealed before 2026-12-05 hold JSON `null`, which the query below reads as none.
    plain_redacted_segments: Mapped[list[dict[str, Any]] | None] = mapped_column(
        "redacted_segments", JSON(none_as_null=True)
    )
    processing_s: Mapped[float] = mapped_column(default=0.0)
    verified_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    verified_at: Mapped[datetime | None]
    created_at: Mapped[created_at]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @hybrid_property
    def has_redacted_twin(self) -> bool:
        return self.sealed_redacted_segments is not None or self.plain_redacted_segments is not None

    @has_redacted_twin.inplace.expression
    @classmethod
    def _has_redacted_twin_expression(cls) -> ColumnElement[bool]:
        clear = cls.plain_redacted_segments
        kept_in_clear = and_(clear.is_not(None), cast(clear, Text) != "null")
        return or_(cls.sealed_redacted_segments.is_not(None), kept_in_clear)
