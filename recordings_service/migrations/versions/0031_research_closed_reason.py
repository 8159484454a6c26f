"""Research batches say why they closed: `confirmed` (compliance accepted the institute's confirmation of
return or destruction) or `never_downloaded` (the access window ended and nothing was ever downloaded, so the
institute never held a copy and owes no confirmation).

Batches closed before this revision could close only on an accepted confirmation: they read `confirmed`.

Revision ID: 0031_research_closed_reason
Revises: 0030_evaluation_submitted_index
Create Date: 2026-12-04 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031_research_closed_reason"
down_revision: str | Sequence[str] | None = "0030_evaluation_submitted_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("research_batches", sa.Column("closed_reason", sa.String(length=32), nullable=True))
    op.execute("UPDATE research_batches SET closed_reason = 'confirmed' WHERE state = 'closed'")


def downgrade() -> None:
    with op.batch_alter_table("research_batches") as batch_op:
        batch_op.drop_column("closed_reason")
