"""Sealed TOTP seeds, the pending seed of an enrolment, one-time enrolment links.

Plaintext seeds already in `users.mfa_secret` are sealed at their next use: sealing needs the master key,
which `callvault db upgrade` does not read.

Revision ID: 0017_accounts_mfa
Revises: 0016_training
Create Date: 2026-12-02 01:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import recordings_service.db

revision: str = "0017_accounts_mfa"
down_revision: str | Sequence[str] | None = "0016_training"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("mfa_seed", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("mfa_pending_seed", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("enrol_token_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("enrol_expires_at", recordings_service.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_unique_constraint(batch_op.f("uq_users_enrol_token_hash"), ["enrol_token_hash"])


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_users_enrol_token_hash"), type_="unique")
        batch_op.drop_column("enrol_expires_at")
        batch_op.drop_column("enrol_token_hash")
        batch_op.drop_column("mfa_pending_seed")
        batch_op.drop_column("mfa_seed")
