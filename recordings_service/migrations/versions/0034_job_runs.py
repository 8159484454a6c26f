"""When each periodic job last ran to its end.

The jobs process scheduled every job an interval after its own start: one restarted each day (a deploy, a nightly
restart, `callvault run` restarted by its supervisor) never ran the daily retention sweep, one restarted each week
never the integrity check. The finish times kept here let a new process run an overdue job at once.

Revision ID: 0034_job_runs
Revises: 0033_audit_actor_name_index
Create Date: 2026-12-05 20:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import recordings_service.db

revision: str = "0034_job_runs"
down_revision: str | Sequence[str] | None = "0033_audit_actor_name_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("finished_at", recordings_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_job_runs")),
    )


def downgrade() -> None:
    op.drop_table("job_runs")
