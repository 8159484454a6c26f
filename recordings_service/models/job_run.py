"""When each periodic job last ran to its end: the schedule of the daily and weekly jobs outlives a restart."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from recordings_service.db import Base


class JobRun(Base):
    __tablename__ = "job_runs"

    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    finished_at: Mapped[datetime]
