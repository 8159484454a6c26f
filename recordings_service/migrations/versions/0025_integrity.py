"""Integrity checks of stored originals.

Revision ID: 0025_integrity
Revises: 0024_saved_searches
Create Date: 2026-12-02 05:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import recordings_service.db

revision: str = "0025_integrity"
down_revision: str | Sequence[str] | None = "0024_saved_searches"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "integrity_checks",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("started_at", recordings_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", recordings_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sample", sa.Integer(), nullable=True),
        sa.Column("checked", sa.Integer(), nullable=False),
        sa.Column("mismatched", sa.Integer(), nullable=False),
        sa.Column("missing", sa.Integer(), nullable=False),
        sa.Column("duration_s", sa.Double(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrity_checks")),
    )
    with op.batch_alter_table("integrity_checks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_integrity_checks_finished_at"), ["finished_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("integrity_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_integrity_checks_finished_at"))
    op.drop_table("integrity_checks")
