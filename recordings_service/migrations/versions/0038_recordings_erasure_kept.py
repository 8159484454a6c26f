"""Whether a recording is one its customer's erasure kept for a legal duty only, as a column.

Such a call is for compliance only (`recordings.visible_to`). Asked of the subject requests for every call a search
read, the question made a supervisor's searches half as slow again at 100 000 calls (bench/search.py); the erasure
now marks the calls it keeps, and this marks those kept before.

Revision ID: 0038_recordings_erasure_kept
Revises: 0037_research_access_ended
Create Date: 2026-12-06 04:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0038_recordings_erasure_kept"
down_revision: str | Sequence[str] | None = "0037_research_access_ended"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As the tables stood at this revision.
recordings = sa.table(
    "recordings", sa.column("id"), sa.column("customer_id"), sa.column("created_at"), sa.column("erasure_kept")
)
subject_requests = sa.table(
    "subject_requests",
    sa.column("customer_id"),
    sa.column("kind"),
    sa.column("completed_at"),
    sa.column("outcome", sa.JSON),
)


def upgrade() -> None:
    # Not in batch mode: on SQLite that copied the table and lost 0027's indexes on expressions (0039 makes them
    # again where this ran before), and SQLite adds a NOT NULL column with a default in place.
    op.add_column("recordings", sa.Column("erasure_kept", sa.Boolean(), server_default=sa.false(), nullable=False))
    # An erasure answered after the call was recorded, not withdrawn: every other call of the customer is gone.
    withdrawn = subject_requests.c.outcome["withdrawn"].as_boolean()
    keeping = (
        sa.select(sa.literal(1))
        .where(
            subject_requests.c.customer_id == recordings.c.customer_id,
            subject_requests.c.kind == "erasure",
            subject_requests.c.completed_at >= recordings.c.created_at,
            withdrawn.is_not(True),
        )
        .exists()
    )
    op.execute(recordings.update().where(keeping).values(erasure_kept=True))


def downgrade() -> None:
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.drop_column("erasure_kept")
