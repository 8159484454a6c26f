"""The keys that signed the audit trail, registered (`audit_signing_keys`), so that a process without one of them is
refused at start: only the newest event's key was checked, and a retired key dropped from `CALLVAULT_AUDIT_KEYS_OLD`
was found by `callvault audit verify`, as a break in the chain at the first event it signed.

A key is registered with the first event it signs after another key's (the chain's head keeps the newest event's
key, `audit_chain_head.key_id`); those of the events before this migration are registered from the trail: one scan of `audit_events`, which has no
index on `key_id` (PostgreSQL reads a million events in about a second; writes wait for it).

Revision ID: 0047_audit_signing_keys
Revises: 0046_recordings_created_at_index
Create Date: 2026-12-07 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0047_audit_signing_keys"
down_revision: str | Sequence[str] | None = "0046_recordings_created_at_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_signing_keys",
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_audit_signing_keys")),
    )
    op.execute(
        "INSERT INTO audit_signing_keys (key_id) SELECT DISTINCT key_id FROM audit_events WHERE key_id IS NOT NULL"
    )
    op.add_column("audit_chain_head", sa.Column("key_id", sa.String(length=16), nullable=True))
    op.execute(
        "UPDATE audit_chain_head SET key_id = (SELECT key_id FROM audit_events WHERE seq = audit_chain_head.seq)"
    )


def downgrade() -> None:
    with op.batch_alter_table("audit_chain_head") as batch_op:
        batch_op.drop_column("key_id")
    op.drop_table("audit_signing_keys")
