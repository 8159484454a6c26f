"""Audit events name the HMAC key that signed them.

Events already in the trail keep their plain SHA-256 hash and get no key id; the first event written with
`CALLVAULT_AUDIT_KEY` set chains onto the last of them, and verification accepts unkeyed events only before it.

Revision ID: 0018_audit_hmac
Revises: 0017_accounts_mfa
Create Date: 2026-12-02 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_audit_hmac"
down_revision: str | Sequence[str] | None = "0017_accounts_mfa"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("key_id", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.drop_column("key_id")
