"""Evaluation forms (versioned: sections of weighted questions) and the evaluations scored on them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from recordings_service.db import Base, created_at, ulid_pk, utcnow


class FormStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class EvaluationState(StrEnum):
    DRAFT = "draft"  # saved as the evaluator types; never counted in results
    SUBMITTED = "submitted"


class AgentResponse(StrEnum):
    ACKNOWLEDGED = "acknowledged"
    DISPUTED = "disputed"


class DisputeState(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class AnswerType(StrEnum):
    YES_NO_NA = "yes_no_na"
    SCALE_1_5 = "scale_1_5"


class EvaluationForm(Base):
    """One version of a form; versions of the same form share `family_id`.

    A published version is never changed, so the evaluations scored on it keep their meaning; editing
    it creates the next version as a draft.
    """

    __tablename__ = "evaluation_forms"
    __table_args__ = (UniqueConstraint("family_id", "version", name="uq_evaluation_forms_family_version"),)

    id: Mapped[ulid_pk]
    family_id: Mapped[str] = mapped_column(String(26), index=True)
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=FormStatus.DRAFT)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]
    published_at: Mapped[datetime | None]

    sections: Mapped[list[FormSection]] = relationship(
        back_populates="form", order_by="FormSection.position", cascade="all, delete-orphan"
    )

    @property
    def questions(self) -> list[FormQuestion]:
        return [question for section in self.sections for question in section.questions]


class FormSection(Base):
    __tablename__ = "evaluation_form_sections"

    id: Mapped[ulid_pk]
    form_id: Mapped[str] = mapped_column(ForeignKey("evaluation_forms.id"), index=True)
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))

    form: Mapped[EvaluationForm] = relationship(back_populates="sections")
    questions: Mapped[list[FormQuestion]] = relationship(
        back_populates="section", order_by="FormQuestion.position", cascade="all, delete-orphan"
    )


class FormQuestion(Base):
    __tablename__ = "evaluation_form_questions"

    id: Mapped[ulid_pk]
    section_id: Mapped[str] = mapped_column(ForeignKey("evaluation_form_sections.id"), index=True)
    position: Mapped[int]
    text: Mapped[str] = mapped_column(String(500))
    weight: Mapped[float] = mapped_column(default=1.0)
    answer_type: Mapped[str] = mapped_column(String(16), default=AnswerType.YES_NO_NA)
    # A critical question answered "no" (or 1 on the scale) zeroes the whole evaluation.
    critical: Mapped[bool] = mapped_column(default=False)

    section: Mapped[FormSection] = relationship(back_populates="questions")


class Evaluation(Base):
    """A call scored on one form version by one evaluator; agent and queue are copied from the call for trends.

    One per (call, form version, evaluator): a second attempt opens this one. A submitted evaluation edited
    again keeps what it said before as an `EvaluationVersion`; its own columns are always the latest.
    """

    __tablename__ = "evaluations"
    __table_args__ = (
        UniqueConstraint("recording_id", "form_id", "evaluator_id", name="uq_evaluations_call_form_evaluator"),
    )

    id: Mapped[ulid_pk]
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id"), index=True)
    form_id: Mapped[str] = mapped_column(ForeignKey("evaluation_forms.id"), index=True)
    evaluator_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    agent_ref: Mapped[str] = mapped_column(String(100), index=True)
    queue: Mapped[str] = mapped_column(String(100), index=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    # 0-100, or None when every question was answered N/A (nothing to score) or while a draft.
    score: Mapped[float | None]
    critical_failed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    state: Mapped[str] = mapped_column(String(16), default=EvaluationState.SUBMITTED, server_default="submitted")
    # 1 at the first submit; each later submit (an edit, a re-score on a dispute) adds one.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    # When the score that stands was submitted: the week trends count it in.
    submitted_at: Mapped[datetime | None] = mapped_column(index=True)
    updated_at: Mapped[datetime | None]
    # Released to the agent by the evaluator: only then does the agent see it (and the call).
    released_at: Mapped[datetime | None]
    agent_response: Mapped[str | None] = mapped_column(String(16))
    agent_comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    responded_at: Mapped[datetime | None]
    dispute_state: Mapped[str | None] = mapped_column(String(16), index=True)
    resolution_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    resolved_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None]

    form: Mapped[EvaluationForm] = relationship()
    answers: Mapped[list[EvaluationAnswer]] = relationship(back_populates="evaluation", cascade="all, delete-orphan")
    versions: Mapped[list[EvaluationVersion]] = relationship(
        back_populates="evaluation", order_by="EvaluationVersion.version", cascade="all, delete-orphan"
    )


class EvaluationAnswer(Base):
    __tablename__ = "evaluation_answers"
    __table_args__ = (UniqueConstraint("evaluation_id", "question_id", name="uq_evaluation_answers_question"),)

    id: Mapped[ulid_pk]
    evaluation_id: Mapped[str] = mapped_column(ForeignKey("evaluations.id"), index=True)
    question_id: Mapped[str] = mapped_column(ForeignKey("evaluation_form_questions.id"), index=True)
    # "yes", "no", "na", or "1".."5" for the scale.
    value: Mapped[str] = mapped_column(String(3))
    comment: Mapped[str] = mapped_column(Text, default="")
    # The moment of the call (seconds) the evaluator stamped as evidence for this answer.
    at_s: Mapped[float | None]

    evaluation: Mapped[Evaluation] = relationship(back_populates="answers")
    question: Mapped[FormQuestion] = relationship()


class EvaluationVersion(Base):
    """What a submitted evaluation said before it was edited: score, comment and answers as they were."""

    __tablename__ = "evaluation_versions"
    __table_args__ = (UniqueConstraint("evaluation_id", "version", name="uq_evaluation_versions_version"),)

    id: Mapped[ulid_pk]
    evaluation_id: Mapped[str] = mapped_column(ForeignKey("evaluations.id"), index=True)
    version: Mapped[int]
    score: Mapped[float | None]
    critical_failed: Mapped[bool]
    comment: Mapped[str] = mapped_column(Text, default="")
    # [{"question_id", "value", "comment", "at_s"}, ...]
    answers: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    submitted_at: Mapped[datetime | None]
    # The agent's answer to this version, where they gave one, kept as a re-score clears it from the evaluation:
    # {"response", "comment", "responded_at", "dispute_state", "resolution_note", "resolved_by", "resolved_at"}.
    agent_answer: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    replaced_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    replaced_at: Mapped[datetime] = mapped_column(default=utcnow)

    evaluation: Mapped[Evaluation] = relationship(back_populates="versions")
