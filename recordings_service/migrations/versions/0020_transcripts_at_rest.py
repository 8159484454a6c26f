"""Transcripts at rest: segments and their redacted twin sealed under the recording's data key.

The new columns hold the sealed text; the old JSON columns keep rows written before this in clear until
`callvault transcripts encrypt` seals them (a migration has no master key to do it here).

Revision ID: 0020_transcripts_at_rest
Revises: 0019_ingest_source
Create Date: 2026-12-02 01:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_transcripts_at_rest"
down_revision: str | Sequence[str] | None = "0019_ingest_source"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("transcripts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sealed_segments", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("sealed_redacted_segments", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("transcripts", schema=None) as batch_op:
        batch_op.drop_column("sealed_redacted_segments")
        batch_op.drop_column("sealed_segments")
