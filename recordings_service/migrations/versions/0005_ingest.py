"""ingest: the original's container (FFmpeg demuxer name), which playback needs for the media type

Revision ID: 0005_ingest
Revises: 0003_transcription_jobs
Create Date: 2026-11-26 13:09:52.100787
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_ingest"
down_revision: str | Sequence[str] | None = "0003_transcription_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("container", sa.String(length=40), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.drop_column("container")
