"""Merge the search, evaluations and review branches; card data flag and PCI replacement of the original.

Revision ID: 0011_redaction
Revises: 0008_search, 0009_evaluations, 0010_review
Create Date: 2026-12-01 12:00:00

`card_data` marks a call in which card data was said; when the original is replaced by its card-muted copy
(PCI DSS 3.3.1), `pci_redacted_at` says when and `pci_original_sha256` keeps the hash of the original as
ingested, while `sha256` stays the hash of what is stored now.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import recordings_service.db

revision: str = "0011_redaction"
down_revision: str | Sequence[str] | None = ("0008_search", "0009_evaluations", "0010_review")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("card_data", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(
            sa.Column("pci_redacted_at", recordings_service.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("pci_original_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.drop_column("pci_original_sha256")
        batch_op.drop_column("pci_redacted_at")
        batch_op.drop_column("card_data")
