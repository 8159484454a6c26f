"""`users.mfa_pending_seed` goes: an enrolment link's page offers each browser a seed of its own, kept sealed in that
browser's session (`mfa.offered_seed`), so no seed waits beside the link any more. One kept there by a link issued
before is of no use: that link's page offers its own.

Not in batch mode: on SQLite that copies the table (0038's lesson); SQLite drops a plain column in place.

Revision ID: 0040_drop_mfa_pending_seed
Revises: 0039_search_indexes_again
Create Date: 2026-12-06 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0040_drop_mfa_pending_seed"
down_revision: str | Sequence[str] | None = "0039_search_indexes_again"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_column("users", "mfa_pending_seed")


def downgrade() -> None:
    op.add_column("users", sa.Column("mfa_pending_seed", sa.LargeBinary(), nullable=True))
