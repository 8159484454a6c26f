"""Recordings remember the store's version id of their original, so the retention sweep deletes it without a listing.

Originals stored before this revision have none (NULL): the sweep lists their prefixes as before.

Revision ID: 0028_original_versions
Revises: 0027_search_indexes
Create Date: 2026-12-02 09:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028_original_versions"
down_revision: str | Sequence[str] | None = "0027_search_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("recordings", sa.Column("storage_version_id", sa.String(1024), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("recordings") as batch_op:
        batch_op.drop_column("storage_version_id")
