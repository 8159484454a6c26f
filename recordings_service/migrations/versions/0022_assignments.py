"""Evaluation plans and assignments.

Revision ID: 0022_assignments
Revises: 0021_evaluation_lifecycle
Create Date: 2026-12-02 05:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import recordings_service.db

revision: str = "0022_assignments"
down_revision: str | Sequence[str] | None = "0021_evaluation_lifecycle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evaluation_plans",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("queue", sa.String(length=100), nullable=True),
        sa.Column("agent_ref", sa.String(length=100), nullable=True),
        sa.Column("calls_per_agent", sa.Integer(), nullable=False),
        sa.Column("supervisor_ids", sa.JSON(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=26), nullable=True),
        sa.Column("created_at", recordings_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", recordings_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_evaluation_plans_created_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_plans")),
    )
    op.create_table(
        "evaluation_plan_fills",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("plan_id", sa.String(length=26), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("assigned", sa.Integer(), nullable=False),
        sa.Column("filled_at", recordings_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["evaluation_plans.id"], name=op.f("fk_evaluation_plan_fills_plan_id_evaluation_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_plan_fills")),
        sa.UniqueConstraint("plan_id", "week", name="uq_evaluation_plan_fills_plan_week"),
    )
    op.create_table(
        "assignments",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("recording_id", sa.String(length=26), nullable=False),
        sa.Column("assignee_id", sa.String(length=26), nullable=False),
        sa.Column("agent_ref", sa.String(length=100), nullable=False),
        sa.Column("plan_id", sa.String(length=26), nullable=True),
        sa.Column("week", sa.String(length=8), nullable=True),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("assigned_by", sa.String(length=26), nullable=True),
        sa.Column("created_at", recordings_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["assigned_by"], ["users.id"], name=op.f("fk_assignments_assigned_by_users")),
        sa.ForeignKeyConstraint(["assignee_id"], ["users.id"], name=op.f("fk_assignments_assignee_id_users")),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["evaluation_plans.id"], name=op.f("fk_assignments_plan_id_evaluation_plans")
        ),
        sa.ForeignKeyConstraint(
            ["recording_id"], ["recordings.id"], name=op.f("fk_assignments_recording_id_recordings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
        sa.UniqueConstraint("recording_id", "assignee_id", name="uq_assignments_recording_assignee"),
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assignments_agent_ref"), ["agent_ref"], unique=False)
        batch_op.create_index(batch_op.f("ix_assignments_assignee_id"), ["assignee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_assignments_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_assignments_recording_id"), ["recording_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignments_recording_id"))
        batch_op.drop_index(batch_op.f("ix_assignments_plan_id"))
        batch_op.drop_index(batch_op.f("ix_assignments_assignee_id"))
        batch_op.drop_index(batch_op.f("ix_assignments_agent_ref"))
    op.drop_table("assignments")
    op.drop_table("evaluation_plan_fills")
    op.drop_table("evaluation_plans")
