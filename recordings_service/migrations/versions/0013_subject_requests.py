"""Data-subject requests (access, objection, rectification, restriction, erasure) and rectified values.

Revision ID: 0013_subject_requests
Revises: 0012_privacy
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import recordings_service.db

revision: str = "0013_subject_requests"
down_revision: str | Sequence[str] | None = "0012_privacy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = recordings_service.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "subject_requests",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("customer_id", sa.String(length=26), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("received_at", UTC_DATETIME, nullable=False),
        sa.Column("due_at", UTC_DATETIME, nullable=False),
        sa.Column("extended_until", UTC_DATETIME, nullable=True),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("completed_at", UTC_DATETIME, nullable=True),
        sa.Column("lifted_at", UTC_DATETIME, nullable=True),
        sa.Column("chargeable", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=26), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("package_state", sa.String(length=16), nullable=True),
        sa.Column("package_key", sa.String(length=200), nullable=True),
        sa.Column("package_sha256", sa.String(length=64), nullable=True),
        sa.Column("package_size", sa.BigInteger(), nullable=True),
        sa.Column("package_wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("package_master_key_id", sa.BigInteger(), nullable=True),
        sa.Column("package_ready_at", UTC_DATETIME, nullable=True),
        sa.Column("package_expires_at", UTC_DATETIME, nullable=True),
        sa.Column("package_attempts", sa.Integer(), nullable=False),
        sa.Column("package_error", sa.Text(), nullable=True),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_expires_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_subject_requests_created_by_users")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_subject_requests_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_requests")),
    )
    with op.batch_alter_table("subject_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subject_requests_completed_at"), ["completed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_subject_requests_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_subject_requests_due_at"), ["due_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_subject_requests_package_expires_at"), ["package_expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_subject_requests_package_state"), ["package_state"], unique=False)
    op.create_table(
        "subject_corrections",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("request_id", sa.String(length=26), nullable=False),
        sa.Column("recording_id", sa.String(length=26), nullable=False),
        sa.Column("transcript_id", sa.String(length=26), nullable=True),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("segment", sa.Integer(), nullable=True),
        sa.Column("previous", sa.JSON(), nullable=True),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("corrected_by", sa.String(length=26), nullable=True),
        sa.Column("corrected_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["corrected_by"], ["users.id"], name=op.f("fk_subject_corrections_corrected_by_users")),
        sa.ForeignKeyConstraint(
            ["recording_id"], ["recordings.id"], name=op.f("fk_subject_corrections_recording_id_recordings")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["subject_requests.id"], name=op.f("fk_subject_corrections_request_id_subject_requests")
        ),
        sa.ForeignKeyConstraint(
            ["transcript_id"],
            ["transcripts.id"],
            name=op.f("fk_subject_corrections_transcript_id_transcripts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_corrections")),
    )
    with op.batch_alter_table("subject_corrections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subject_corrections_recording_id"), ["recording_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_subject_corrections_request_id"), ["request_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_subject_corrections_transcript_id"), ["transcript_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("subject_corrections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_corrections_transcript_id"))
        batch_op.drop_index(batch_op.f("ix_subject_corrections_request_id"))
        batch_op.drop_index(batch_op.f("ix_subject_corrections_recording_id"))
    op.drop_table("subject_corrections")
    with op.batch_alter_table("subject_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_requests_package_state"))
        batch_op.drop_index(batch_op.f("ix_subject_requests_package_expires_at"))
        batch_op.drop_index(batch_op.f("ix_subject_requests_due_at"))
        batch_op.drop_index(batch_op.f("ix_subject_requests_customer_id"))
        batch_op.drop_index(batch_op.f("ix_subject_requests_completed_at"))
    op.drop_table("subject_requests")
