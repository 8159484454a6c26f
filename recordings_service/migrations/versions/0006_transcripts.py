"""transcripts

Revision ID: 0006_transcripts
Revises: 0003_transcription_jobs
Create Date: 2026-11-26 13:08:34.747738
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import recordings_service.db

revision: str = "0006_transcripts"
down_revision: str | Sequence[str] | None = "0003_transcription_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "transcripts",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("recording_id", sa.String(length=26), nullable=False),
        sa.Column("engine", sa.String(length=40), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("detected_language", sa.String(length=8), nullable=True),
        sa.Column("segments", sa.JSON(), nullable=False),
        sa.Column("redacted_segments", sa.JSON(), nullable=True),
        sa.Column("processing_s", sa.Double(), nullable=False),
        sa.Column("verified_by", sa.String(length=26), nullable=True),
        sa.Column("verified_at", recordings_service.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", recordings_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", recordings_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recording_id"], ["recordings.id"], name=op.f("fk_transcripts_recording_id_recordings")
        ),
        sa.ForeignKeyConstraint(["verified_by"], ["users.id"], name=op.f("fk_transcripts_verified_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transcripts")),
        sa.UniqueConstraint("recording_id", name=op.f("uq_transcripts_recording_id")),
    )


def downgrade() -> None:
    op.drop_table("transcripts")
