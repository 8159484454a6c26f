"""Merge the accounts, ingest and transcripts branches; refuse TRUNCATE of the audit trail too.

Revision ID: 0007_merge_audit_truncate
Revises: 0004_accounts, 0005_ingest, 0006_transcripts
Create Date: 2026-11-26 13:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007_merge_audit_truncate"
down_revision: str | Sequence[str] | None = ("0004_accounts", "0005_ingest", "0006_transcripts")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # The row trigger of 0001 does not fire for TRUNCATE, which the table owner could run.
        op.execute(
            """
            CREATE TRIGGER audit_events_no_truncate
            BEFORE TRUNCATE ON audit_events
            FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()
            """
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_events_no_truncate ON audit_events")
