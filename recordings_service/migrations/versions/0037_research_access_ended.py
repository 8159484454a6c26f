"""Who ended a research batch's access window early, and why.

Compliance could not stop an institute's downloads once a batch was approved: an agreement terminated, a suspected
breach or a study called off left the package downloadable until its window's end. Ending the window now keeps who
did it and the reason with the batch (the audit event carries the planned end, not the text).

Revision ID: 0037_research_access_ended
Revises: 0036_retention_in_zone
Create Date: 2026-12-06 04:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0037_research_access_ended"
down_revision: str | Sequence[str] | None = "0036_retention_in_zone"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("research_batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("access_ended_by", sa.String(length=26), nullable=True))
        batch_op.add_column(sa.Column("access_ended_reason", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_research_batches_access_ended_by_users"), "users", ["access_ended_by"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("research_batches", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_research_batches_access_ended_by_users"), type_="foreignkey")
        batch_op.drop_column("access_ended_reason")
        batch_op.drop_column("access_ended_by")
