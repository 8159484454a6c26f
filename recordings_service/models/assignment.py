"""Who evaluates which call: evaluation plans that sample calls each week, and the assignments they (or a
person, by hand) put on a supervisor's "to evaluate" list."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from recordings_service.db import Base, created_at, ulid_pk, utcnow


class EvaluationPlan(Base):
    """N calls per agent per ISO week from a queue (or one agent), spread over the supervisors it names.

    The seed makes a week's choice reproducible: the same plan, week and eligible calls give the same calls.
    """

    __tablename__ = "evaluation_plans"

    id: Mapped[ulid_pk]
    name: Mapped[str] = mapped_column(String(200))
    queue: Mapped[str | None] = mapped_column(String(100))
    agent_ref: Mapped[str | None] = mapped_column(String(100))
    calls_per_agent: Mapped[int]
    supervisor_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    seed: Mapped[int] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PlanFill(Base):
    """A plan filled for one ISO week ("2026-W49"): the unique row makes filling idempotent."""

    __tablename__ = "evaluation_plan_fills"
    __table_args__ = (UniqueConstraint("plan_id", "week", name="uq_evaluation_plan_fills_plan_week"),)

    id: Mapped[ulid_pk]
    plan_id: Mapped[str] = mapped_column(ForeignKey("evaluation_plans.id"))
    week: Mapped[str] = mapped_column(String(8))
    assigned: Mapped[int]
    filled_at: Mapped[created_at]


class Assignment(Base):
    """A call on a supervisor's list; done once that supervisor has evaluated the call (read from evaluations)."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("recording_id", "assignee_id", name="uq_assignments_recording_assignee"),)

    id: Mapped[ulid_pk]
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id"), index=True)
    assignee_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    # Copied from the call, for coverage per agent without a join.
    agent_ref: Mapped[str] = mapped_column(String(100), index=True)
    plan_id: Mapped[str | None] = mapped_column(ForeignKey("evaluation_plans.id"), index=True)
    week: Mapped[str | None] = mapped_column(String(8))
    due: Mapped[date | None]
    assigned_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]
