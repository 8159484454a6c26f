"""What reviewers add to a call: comments at moments of the call, and segments checked against the audio.

A whole transcript's verification lives on `Transcript.verified_by/verified_at`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from recordings_service.db import Base, created_at, ulid_pk


class Annotation(Base):
    """A reviewer's comment at a moment of the call."""

    __tablename__ = "annotations"

    id: Mapped[ulid_pk]
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id"), index=True)
    at_s: Mapped[float]
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]


class SegmentVerification(Base):
    """One transcript segment checked against the audio by a person.

    Segments are JSON inside the transcript and a re-transcription replaces them, so the verification
    names the segment by index and keeps a hash of what was checked: it counts only while they match.
    """

    __tablename__ = "segment_verifications"
    __table_args__ = (UniqueConstraint("transcript_id", "segment_index", name="uq_segment_verifications_segment"),)

    id: Mapped[ulid_pk]
    # The unique (transcript_id, segment_index) index serves lookups by transcript too.
    transcript_id: Mapped[str] = mapped_column(ForeignKey("transcripts.id"))
    segment_index: Mapped[int]
    segment_sha256: Mapped[str] = mapped_column(String(64))
    verified_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    verified_at: Mapped[datetime]
