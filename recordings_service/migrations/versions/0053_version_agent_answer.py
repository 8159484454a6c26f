"""An evaluation's earlier version keeps the agent's answer to it: a re-score cleared the agent's acknowledgement or
dispute, its comment and the resolution note from the evaluation and kept none of them, so a dispute was gone from
the record once the evaluator scored the call again. The versions replaced before this migration have none.

Revision ID: 0053_version_agent_answer
Revises: 0052_user_agent_keys
Create Date: 2026-12-08 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0053_version_agent_answer"
down_revision: str | Sequence[str] | None = "0052_user_agent_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A column that may be NULL, added in place on either database (as 0051).
    op.add_column("evaluation_versions", sa.Column("agent_answer", sa.JSON(), nullable=True))


def downgrade() -> None:
    # In place on either database (SQLite since 3.35), as 0051's downgrade.
    op.execute("ALTER TABLE evaluation_versions DROP COLUMN agent_answer")
