"""Every version put under `derived/<id>/` is kept in `derived_versions`, so the retention sweep deletes a
recording's objects without listing them.

Recordings from before this revision may have derivatives no row names (`derived_versions_known` false):
the sweep lists their `derived/<id>/` as before.

Revision ID: 0029_derived_versions
Revises: 0028_original_versions
Create Date: 2026-12-02 13:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import recordings_service.db

revision: str = "0029_derived_versions"
down_revision: str | Sequence[str] | None = "0028_original_versions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "recordings", sa.Column("derived_versions_known", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.create_table(
        "derived_versions",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("recording_id", sa.String(length=26), nullable=False),
        sa.Column("key", sa.String(length=1024), nullable=False),
        sa.Column("version_id", sa.String(length=1024), nullable=False),
        sa.Column("created_at", recordings_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recording_id"], ["recordings.id"], name=op.f("fk_derived_versions_recording_id_recordings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_derived_versions")),
    )
    with op.batch_alter_table("derived_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_derived_versions_recording_id"), ["recording_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("derived_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_derived_versions_recording_id"))
    op.drop_table("derived_versions")
    with op.batch_alter_table("recordings") as batch_op:
        batch_op.drop_column("derived_versions_known")
