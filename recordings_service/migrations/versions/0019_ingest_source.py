"""API tokens name the recording source they may ingest for.

Tokens issued before this revision get no source, and an ingest token without one is refused: which
system a token was handed to is not recorded anywhere, so guessing would let an old token keep writing
into any source. Each telephony system gets a new token (`callvault tokens create NAME --scope ingest
--source SOURCE`) and its old one is revoked.

Revision ID: 0019_ingest_source
Revises: 0018_audit_hmac
Create Date: 2026-12-02 02:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_ingest_source"
down_revision: str | Sequence[str] | None = "0018_audit_hmac"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("api_tokens", sa.Column("source", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch_op:
        batch_op.drop_column("source")
