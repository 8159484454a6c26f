"""The two search indexes on expressions, made again where 0038 lost them (SQLite).

0038 added `recordings.erasure_kept` in batch mode, which on SQLite copies the table into a new one with the indexes
it can read back; an index on an expression (`lower(queue)`, `lower(agent_ref)`: 0027) cannot be read back, so the
copy had neither, and search by queue or agent walked every call again. PostgreSQL alters the table in place and
kept them; there this changes nothing.

Revision ID: 0039_search_indexes_again
Revises: 0038_recordings_erasure_kept
Create Date: 2026-12-06 07:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0039_search_indexes_again"
down_revision: str | Sequence[str] | None = "0038_recordings_erasure_kept"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # As 0027 made them.
    op.create_index(
        "ix_recordings_queue_newest",
        "recordings",
        [sa.text("lower(queue)"), "started_at", "id"],
        unique=False,
        if_not_exists=True,
    )
    op.create_index(
        "ix_recordings_agent_newest",
        "recordings",
        [sa.text("lower(agent_ref)"), "started_at", "id"],
        unique=False,
        if_not_exists=True,
    )


def downgrade() -> None:
    """Nothing: 0038's downgrade copies the table again, and 0027's drops these."""
