"""accounts: login lockout counters and TOTP replay protection

Revision ID: 0004_accounts
Revises: 0003_transcription_jobs
Create Date: 2026-11-26 13:07:52.396752
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import recordings_service.db

revision: str = "0004_accounts"
down_revision: str | Sequence[str] | None = "0003_transcription_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mfa_last_step", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("locked_until", recordings_service.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_logins")
        batch_op.drop_column("mfa_last_step")
