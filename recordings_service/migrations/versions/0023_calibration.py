"""Calibration sessions.

Revision ID: 0023_calibration
Revises: 0022_assignments
Create Date: 2026-12-02 05:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import recordings_service.db

revision: str = "0023_calibration"
down_revision: str | Sequence[str] | None = "0022_assignments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calibration_sessions",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("recording_id", sa.String(length=26), nullable=False),
        sa.Column("form_id", sa.String(length=26), nullable=False),
        sa.Column("organiser_id", sa.String(length=26), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("created_at", recordings_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", recordings_service.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revealed_at", recordings_service.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["form_id"], ["evaluation_forms.id"], name=op.f("fk_calibration_sessions_form_id_evaluation_forms")
        ),
        sa.ForeignKeyConstraint(
            ["organiser_id"], ["users.id"], name=op.f("fk_calibration_sessions_organiser_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["recording_id"], ["recordings.id"], name=op.f("fk_calibration_sessions_recording_id_recordings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calibration_sessions")),
    )
    with op.batch_alter_table("calibration_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calibration_sessions_organiser_id"), ["organiser_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_calibration_sessions_recording_id"), ["recording_id"], unique=False)
    op.create_table(
        "calibration_participants",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("session_id", sa.String(length=26), nullable=False),
        sa.Column("user_id", sa.String(length=26), nullable=False),
        sa.Column("submitted_at", recordings_service.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column("critical_failed", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["calibration_sessions.id"],
            name=op.f("fk_calibration_participants_session_id_calibration_sessions"),
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_calibration_participants_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calibration_participants")),
        sa.UniqueConstraint("session_id", "user_id", name="uq_calibration_participants_user"),
    )
    with op.batch_alter_table("calibration_participants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calibration_participants_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_calibration_participants_user_id"), ["user_id"], unique=False)
    op.create_table(
        "calibration_answers",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("participant_id", sa.String(length=26), nullable=False),
        sa.Column("question_id", sa.String(length=26), nullable=False),
        sa.Column("value", sa.String(length=3), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["calibration_participants.id"],
            name=op.f("fk_calibration_answers_participant_id_calibration_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["evaluation_form_questions.id"],
            name=op.f("fk_calibration_answers_question_id_evaluation_form_questions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calibration_answers")),
        sa.UniqueConstraint("participant_id", "question_id", name="uq_calibration_answers_question"),
    )
    with op.batch_alter_table("calibration_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calibration_answers_participant_id"), ["participant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("calibration_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calibration_answers_participant_id"))
    op.drop_table("calibration_answers")
    with op.batch_alter_table("calibration_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calibration_participants_user_id"))
        batch_op.drop_index(batch_op.f("ix_calibration_participants_session_id"))
    op.drop_table("calibration_participants")
    with op.batch_alter_table("calibration_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calibration_sessions_recording_id"))
        batch_op.drop_index(batch_op.f("ix_calibration_sessions_organiser_id"))
    op.drop_table("calibration_sessions")
