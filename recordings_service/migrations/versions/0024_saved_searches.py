"""Saved searches per user, and free-text tags on calls.

Revision ID: 0024_saved_searches
Revises: 0023_calibration
Create Date: 2026-12-02 05:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import recordings_service.db

revision: str = "0024_saved_searches"
down_revision: str | Sequence[str] | None = "0023_calibration"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "call_tags",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("recording_id", sa.String(length=26), nullable=False),
        sa.Column("tag", sa.String(length=60), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("tagged_by", sa.String(length=26), nullable=False),
        sa.Column("created_at", recordings_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["recording_id"], ["recordings.id"], name=op.f("fk_call_tags_recording_id_recordings")),
        sa.ForeignKeyConstraint(["tagged_by"], ["users.id"], name=op.f("fk_call_tags_tagged_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_tags")),
        sa.UniqueConstraint("recording_id", "key", name="uq_call_tags_recording_key"),
    )
    with op.batch_alter_table("call_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_tags_key"), ["key"], unique=False)
    op.create_table(
        "saved_searches",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("owner_id", sa.String(length=26), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("created_at", recordings_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_saved_searches_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_searches")),
        sa.UniqueConstraint("owner_id", "name", name="uq_saved_searches_owner_name"),
    )


def downgrade() -> None:
    op.drop_table("saved_searches")
    with op.batch_alter_table("call_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_tags_key"))
    op.drop_table("call_tags")
