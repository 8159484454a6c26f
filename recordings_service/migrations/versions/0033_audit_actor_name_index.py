"""The audit trail's actor names, lowered, indexed: a person's events are found by account id or by name.

Compliance narrows the trail to one person by their account id or, in any case, by the name the trail keeps (an
account removed since has only its name): `actor_id IN (...) OR lower(actor_name) = ...`. With only the id indexed,
that OR could use no index, and each count and page of what one person did read every event ever recorded.

Revision ID: 0033_audit_actor_name_index
Revises: 0032_audit_event_recordings
Create Date: 2026-12-05 15:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033_audit_actor_name_index"
down_revision: str | Sequence[str] | None = "0032_audit_event_recordings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_audit_events_actor_name", "audit_events", [sa.text("lower(actor_name)")], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # Statistics of an expression index come with the next ANALYZE, which new rows alone may not trigger for days.
        op.execute("ANALYZE audit_events")


def downgrade() -> None:
    op.drop_index("ix_audit_events_actor_name", table_name="audit_events")
