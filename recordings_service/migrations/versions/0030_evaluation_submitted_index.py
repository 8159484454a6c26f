"""Trends count an evaluation in the week its standing score was submitted: an index on `submitted_at`.

Revision ID: 0030_evaluation_submitted_index
Revises: 0029_derived_versions
Create Date: 2026-12-03 18:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0030_evaluation_submitted_index"
down_revision: str | Sequence[str] | None = "0029_derived_versions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_evaluations_submitted_at", "evaluations", ["submitted_at"])


def downgrade() -> None:
    op.drop_index("ix_evaluations_submitted_at", table_name="evaluations")
