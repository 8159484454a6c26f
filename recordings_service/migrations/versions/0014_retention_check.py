"""The retention check's recorded results, and which tombstones still have objects to purge.

Revision ID: 0014_retention_check
Revises: 0013_subject_requests
Create Date: 2026-12-02 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import recordings_service.db

revision: str = "0014_retention_check"
down_revision: str | Sequence[str] | None = "0013_subject_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "retention_checks",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("checked_at", recordings_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("overdue", sa.Integer(), nullable=False),
        sa.Column("orphans", sa.Integer(), nullable=False),
        sa.Column("duration_s", sa.Double(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_checks")),
    )
    with op.batch_alter_table("retention_checks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_retention_checks_checked_at"), ["checked_at"], unique=False)
    with op.batch_alter_table("tombstones", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("objects_purged_at", recordings_service.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_tombstones_objects_purged_at"), ["objects_purged_at"], unique=False)
    # Earlier sweeps purged right after each deletion, and their full orphan scan removed what was left.
    op.execute(sa.text("UPDATE tombstones SET objects_purged_at = deleted_at"))


def downgrade() -> None:
    with op.batch_alter_table("tombstones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tombstones_objects_purged_at"))
        batch_op.drop_column("objects_purged_at")
    with op.batch_alter_table("retention_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_retention_checks_checked_at"))
    op.drop_table("retention_checks")
