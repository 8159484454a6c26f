"""Calibration sessions: one call scored blind by several supervisors on one form, kept apart from evaluations.

Calibration scores measure the evaluators, not the agent, so they never reach `evaluations` (nor any trend).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from recordings_service.db import Base, created_at, ulid_pk
from recordings_service.models.evaluation import EvaluationForm


class CalibrationSession(Base):
    __tablename__ = "calibration_sessions"

    id: Mapped[ulid_pk]
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id"), index=True)
    form_id: Mapped[str] = mapped_column(ForeignKey("evaluation_forms.id"))
    organiser_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[created_at]
    # Set when the organiser closes the session (no more submissions).
    closed_at: Mapped[datetime | None]
    # Set once every participant has submitted, or at closing: from then on everyone sees everyone's scores.
    revealed_at: Mapped[datetime | None]

    form: Mapped[EvaluationForm] = relationship()
    participants: Mapped[list[CalibrationParticipant]] = relationship(
        back_populates="calibration", order_by="CalibrationParticipant.id", cascade="all, delete-orphan"
    )


class CalibrationParticipant(Base):
    """A supervisor asked to score the session's call, and (once submitted) their scoring."""

    __tablename__ = "calibration_participants"
    __table_args__ = (UniqueConstraint("session_id", "user_id", name="uq_calibration_participants_user"),)

    id: Mapped[ulid_pk]
    session_id: Mapped[str] = mapped_column(ForeignKey("calibration_sessions.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    submitted_at: Mapped[datetime | None]
    # 0-100, or None when every question was answered N/A.
    score: Mapped[float | None]
    critical_failed: Mapped[bool] = mapped_column(default=False)
    comment: Mapped[str] = mapped_column(Text, default="")

    calibration: Mapped[CalibrationSession] = relationship(back_populates="participants")
    answers: Mapped[list[CalibrationAnswer]] = relationship(back_populates="participant", cascade="all, delete-orphan")


class CalibrationAnswer(Base):
    __tablename__ = "calibration_answers"
    __table_args__ = (UniqueConstraint("participant_id", "question_id", name="uq_calibration_answers_question"),)

    id: Mapped[ulid_pk]
    participant_id: Mapped[str] = mapped_column(ForeignKey("calibration_participants.id"), index=True)
    question_id: Mapped[str] = mapped_column(ForeignKey("evaluation_form_questions.id"))
    value: Mapped[str] = mapped_column(String(3))
    comment: Mapped[str] = mapped_column(Text, default="")

    participant: Mapped[CalibrationParticipant] = relationship(back_populates="answers")
