"""Tombstones say whether a deletion receipt names them, so a sweep killed before its receipt is accounted for.

Tombstones from before this revision were all named by the receipt of the run that made them (the sweep
wrote its receipt in the same run, and no kill test found otherwise then), so they start as named.

Revision ID: 0026_receipt_claims
Revises: 0025_integrity
Create Date: 2026-12-02 07:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026_receipt_claims"
down_revision: str | Sequence[str] | None = "0025_integrity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tombstones", sa.Column("in_receipt", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("tombstones") as batch_op:
        batch_op.drop_column("in_receipt")
