"""Staff and partner accounts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from recordings_service.db import Base, created_at, ulid_pk
from recordings_service.models.recording import KEY_WIDTH, MAX_AGENT_REF, name_key


class Role(StrEnum):
    ADMIN = "admin"
    COMPLIANCE = "compliance"
    QA_SUPERVISOR = "qa_supervisor"
    TRAINER = "trainer"
    RESEARCH_PARTNER = "research_partner"
    SERVICE = "service"
    # A contact-centre agent: sees only the evaluations released to them, and answers them.
    AGENT = "agent"


class User(Base):
    __tablename__ = "users"

    id: Mapped[ulid_pk]
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    institute_id: Mapped[str | None] = mapped_column(String(26))
    # The agent an `agent` account is (the agent_ref calls carry); unique so one person's feedback is theirs.
    agent_ref: Mapped[str | None] = mapped_column(String(100), unique=True)
    # `name_key(agent_ref)`, set whenever the ref is (`_keep_agent_key`): the account is its agent in any letter case
    # and Unicode form, as a call's `agent_key` matches it (its own calls, their evaluations, the feedback it answers).
    agent_key: Mapped[str | None] = mapped_column(String(KEY_WIDTH * MAX_AGENT_REF), index=True)
    # The person's team lead: disputes of the evaluations this person scored also land in the lead's queue.
    lead_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    active: Mapped[bool] = mapped_column(default=True)
    # The TOTP seed in plain base32, as releases before 0017 stored it: sealed into `mfa_seed` at its next use.
    mfa_secret: Mapped[str | None] = mapped_column(String(64))
    # The TOTP seed sealed by the master key (bound to the account id): a copy of the database alone
    # cannot mint codes.
    mfa_seed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The one live enrolment link (SHA-256 of its token; the token is shown once) and when it stops working.
    enrol_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    enrol_expires_at: Mapped[datetime | None]
    # The last TOTP time step accepted, so a code seen once (shoulder-surfed, phished) cannot be replayed.
    mfa_last_step: Mapped[int | None]
    # Failed logins since the last success or lockout; reaching the threshold locks the account for a while.
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None]
    created_at: Mapped[created_at]
    last_login_at: Mapped[datetime | None]
    # Part of every login session's id: bumping it (logout everywhere, disable) ends all sessions.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")

    @validates("agent_ref")
    def _keep_agent_key(self, _name: str, value: str | None) -> str | None:
        self.agent_key = None if value is None else name_key(value)
        return value

    # The four members a login session (Flask-Login) asks of a user; plain Python, no web import.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    @property
    def mfa_enrolled(self) -> bool:
        return self.mfa_seed is not None or self.mfa_secret is not None

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


class ApiToken(Base):
    """A bearer token for machines and scripts; only its SHA-256 is stored, the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[ulid_pk]
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    scope: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The one recording source an ingest token ingests for; a leaked token cannot write into another
    # system's calls. Empty on tokens from before migration 0019, which may not ingest at all.
    source: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[created_at]
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class RateCount(Base):
    """A fixed window's count of sign-in attempts from one address, shared by every web worker (`rate_counts`)."""

    __tablename__ = "rate_counts"

    # A keyed hash of the limit and the address: the address itself is not kept.
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int]
    # When the window ends, in seconds since the epoch (as the rate-limit library counts).
    expires_at: Mapped[float] = mapped_column(Float, index=True)
