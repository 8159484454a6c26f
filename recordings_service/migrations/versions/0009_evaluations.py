"""Evaluation forms (versioned, sections, weighted questions), evaluations and their answers.

Revision ID: 0009_evaluations
Revises: 0007_merge_audit_truncate
Create Date: 2026-11-26 13:37:59.735502
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import recordings_service.db

revision: str = "0009_evaluations"
down_revision: str | Sequence[str] | None = "0007_merge_audit_truncate"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evaluation_forms",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("family_id", sa.String(length=26), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=26), nullable=True),
        sa.Column("created_at", recordings_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", recordings_service.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_evaluation_forms_created_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_forms")),
        sa.UniqueConstraint("family_id", "version", name="uq_evaluation_forms_family_version"),
    )
    with op.batch_alter_table("evaluation_forms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluation_forms_family_id"), ["family_id"], unique=False)

    op.create_table(
        "evaluation_form_sections",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("form_id", sa.String(length=26), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["form_id"], ["evaluation_forms.id"], name=op.f("fk_evaluation_form_sections_form_id_evaluation_forms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_form_sections")),
    )
    with op.batch_alter_table("evaluation_form_sections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluation_form_sections_form_id"), ["form_id"], unique=False)

    op.create_table(
        "evaluations",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("recording_id", sa.String(length=26), nullable=False),
        sa.Column("form_id", sa.String(length=26), nullable=False),
        sa.Column("evaluator_id", sa.String(length=26), nullable=False),
        sa.Column("agent_ref", sa.String(length=100), nullable=False),
        sa.Column("queue", sa.String(length=100), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column("critical_failed", sa.Boolean(), nullable=False),
        sa.Column("created_at", recordings_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["evaluator_id"], ["users.id"], name=op.f("fk_evaluations_evaluator_id_users")),
        sa.ForeignKeyConstraint(
            ["form_id"], ["evaluation_forms.id"], name=op.f("fk_evaluations_form_id_evaluation_forms")
        ),
        sa.ForeignKeyConstraint(
            ["recording_id"], ["recordings.id"], name=op.f("fk_evaluations_recording_id_recordings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluations")),
    )
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluations_agent_ref"), ["agent_ref"], unique=False)
        batch_op.create_index(batch_op.f("ix_evaluations_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_evaluations_evaluator_id"), ["evaluator_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evaluations_form_id"), ["form_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evaluations_queue"), ["queue"], unique=False)
        batch_op.create_index(batch_op.f("ix_evaluations_recording_id"), ["recording_id"], unique=False)

    op.create_table(
        "evaluation_form_questions",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("section_id", sa.String(length=26), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("weight", sa.Double(), nullable=False),
        sa.Column("answer_type", sa.String(length=16), nullable=False),
        sa.Column("critical", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["evaluation_form_sections.id"],
            name=op.f("fk_evaluation_form_questions_section_id_evaluation_form_sections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_form_questions")),
    )
    with op.batch_alter_table("evaluation_form_questions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluation_form_questions_section_id"), ["section_id"], unique=False)

    op.create_table(
        "evaluation_answers",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("evaluation_id", sa.String(length=26), nullable=False),
        sa.Column("question_id", sa.String(length=26), nullable=False),
        sa.Column("value", sa.String(length=3), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["evaluation_id"], ["evaluations.id"], name=op.f("fk_evaluation_answers_evaluation_id_evaluations")
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["evaluation_form_questions.id"],
            name=op.f("fk_evaluation_answers_question_id_evaluation_form_questions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_answers")),
        sa.UniqueConstraint("evaluation_id", "question_id", name="uq_evaluation_answers_question"),
    )
    with op.batch_alter_table("evaluation_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluation_answers_evaluation_id"), ["evaluation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evaluation_answers_question_id"), ["question_id"], unique=False)


def downgrade() -> None:
    # Dropping a table drops its indexes with it.
    for table in (
        "evaluation_answers",
        "evaluation_form_questions",
        "evaluations",
        "evaluation_form_sections",
        "evaluation_forms",
    ):
        op.drop_table(table)
