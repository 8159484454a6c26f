"""A research batch's pseudonyms are forgotten with its key: once closed or rejected, its items' pseudonyms (now
nullable) and its follow-ups' are cleared. The key was destroyed while the pseudonyms it made stayed with the items,
so a copy the institute kept could still be linked back to its calls and customers. This clears those of the batches
closed or rejected before it.

Revision ID: 0043_forget_batch_pseudonyms
Revises: 0042_rate_counts
Create Date: 2026-12-06 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0043_forget_batch_pseudonyms"
down_revision: str | Sequence[str] | None = "0042_rate_counts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As the tables stood at this revision.
research_batches = sa.table("research_batches", sa.column("id"), sa.column("state"), sa.column("follow_up", sa.JSON))
research_batch_items = sa.table(
    "research_batch_items",
    sa.column("batch_id"),
    sa.column("call_pseudonym"),
    sa.column("customer_pseudonym"),
    sa.column("agent_pseudonym"),
)
ENDED = ("closed", "rejected")


def upgrade() -> None:
    with op.batch_alter_table("research_batch_items") as batch_op:
        batch_op.alter_column("call_pseudonym", existing_type=sa.String(length=40), nullable=True)
        batch_op.alter_column("agent_pseudonym", existing_type=sa.String(length=40), nullable=True)
    ended = sa.select(research_batches.c.id).where(research_batches.c.state.in_(ENDED))
    op.execute(
        research_batch_items.update()
        .where(research_batch_items.c.batch_id.in_(ended))
        .values(call_pseudonym=None, customer_pseudonym=None, agent_pseudonym=None)
    )
    connection = op.get_bind()
    flagged = connection.execute(
        sa.select(research_batches.c.id, research_batches.c.follow_up).where(research_batches.c.state.in_(ENDED))
    )
    for batch_id, flags in list(flagged):
        if flags:
            forgotten = [{**flag, "customer_pseudonyms": [], "call_pseudonyms": []} for flag in flags]
            connection.execute(
                research_batches.update().where(research_batches.c.id == batch_id).values(follow_up=forgotten)
            )


def downgrade() -> None:
    """The columns stay nullable: a forgotten pseudonym cannot come back."""
