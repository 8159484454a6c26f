"""Integrity checks of stored originals: each run's counts, for the compliance dashboard."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from recordings_service.db import Base, ulid_pk


class IntegrityCheckRun(Base):
    """One re-hash of originals (all, or a random sample of `sample`); its findings are audit events."""

    __tablename__ = "integrity_checks"

    id: Mapped[ulid_pk]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime] = mapped_column(index=True)
    sample: Mapped[int | None]
    checked: Mapped[int]
    mismatched: Mapped[int]
    missing: Mapped[int]
    duration_s: Mapped[float]
    actor: Mapped[str] = mapped_column(String(64))
