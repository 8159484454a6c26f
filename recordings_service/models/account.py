"""Staff and partner accounts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from recordings_service.db import Base, created_at, ulid_pk


class Role(StrEnum):
    ADMIN = "admin"
    COMPLIANCE = "compliance"
    QA_SUPERVISOR = "qa_supervisor"
    TRAINER = "trainer"
    RESEARCH_PARTNER = "research_partner"
    SERVICE = "service"


class User(Base):
    __tablename__ = "users"

    id: Mapped[ulid_pk]
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    institute_id: Mapped[str | None] = mapped_column(String(26))
    active: Mapped[bool] = mapped_column(default=True)
    mfa_secret: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[created_at]
    last_login_at: Mapped[datetime | None]
