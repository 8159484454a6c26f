"""Retention policies (seeded with the defaults), legal holds, tombstones and deletion receipts.

Revision ID: 0012_privacy
Revises: 0011_redaction
Create Date: 2026-12-01 12:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import recordings_service.db

revision: str = "0012_privacy"
down_revision: str | Sequence[str] | None = "0011_redaction"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The defaults as decided for the register (Art. 30); compliance changes them through the API afterwards.
DEFAULT_POLICIES = [
    (
        "verification",
        36,
        "months",
        "Evidence of an agreement made on the call: claims under it become time-barred three years after they "
        "fall due (Limitation of Debts Act 728/2003, s. 4). GDPR Art. 6(1)(b) and 6(1)(f).",
    ),
    (
        "quality_study",
        12,
        "months",
        "Quality assurance and development of customer service. Legitimate interest, GDPR Art. 6(1)(f).",
    ),
    (
        "training",
        12,
        "months",
        "Training of customer-service agents on recent calls. Legitimate interest, GDPR Art. 6(1)(f).",
    ),
    (
        "no_agreement",
        12,
        "months",
        "A call in which no agreement was made and that serves no other purpose: kept to handle complaints and "
        "questions about the call. Legitimate interest, GDPR Art. 6(1)(f).",
    ),
    (
        "maximum",
        120,
        "months",
        "Global ceiling: no recording is kept longer than ten years from the call, whatever its purposes "
        "(storage limitation, GDPR Art. 5(1)(e)).",
    ),
]


def upgrade() -> None:
    policies = op.create_table(
        "retention_policies",
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("keep", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=8), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=26), nullable=True),
        sa.Column("updated_at", recordings_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"], name=op.f("fk_retention_policies_updated_by_users")),
        sa.PrimaryKeyConstraint("rule", name=op.f("pk_retention_policies")),
    )
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("recording_id", sa.String(length=26), nullable=True),
        sa.Column("customer_id", sa.String(length=26), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("placed_by", sa.String(length=26), nullable=True),
        sa.Column("placed_at", recordings_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("released_by", sa.String(length=26), nullable=True),
        sa.Column("released_at", recordings_service.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("(recording_id IS NULL) <> (customer_id IS NULL)", name=op.f("ck_legal_holds_one_target")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_legal_holds_customer_id_customers")),
        sa.ForeignKeyConstraint(["placed_by"], ["users.id"], name=op.f("fk_legal_holds_placed_by_users")),
        sa.ForeignKeyConstraint(
            ["recording_id"], ["recordings.id"], name=op.f("fk_legal_holds_recording_id_recordings")
        ),
        sa.ForeignKeyConstraint(["released_by"], ["users.id"], name=op.f("fk_legal_holds_released_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_holds")),
    )
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_legal_holds_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_legal_holds_recording_id"), ["recording_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_legal_holds_released_at"), ["released_at"], unique=False)
    op.create_table(
        "tombstones",
        sa.Column("recording_id", sa.String(length=26), nullable=False),
        sa.Column("started_at", recordings_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("retain_until", recordings_service.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", recordings_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("deleted_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("recording_id", name=op.f("pk_tombstones")),
    )
    with op.batch_alter_table("tombstones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tombstones_deleted_at"), ["deleted_at"], unique=False)
    op.create_table(
        "deletion_receipts",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("started_at", recordings_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", recordings_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("duration_s", sa.Double(), nullable=False),
        sa.Column("recordings", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("first_recording_id", sa.String(length=26), nullable=True),
        sa.Column("last_recording_id", sa.String(length=26), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deletion_receipts")),
    )
    with op.batch_alter_table("deletion_receipts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deletion_receipts_started_at"), ["started_at"], unique=False)

    now = datetime.now(UTC)
    op.bulk_insert(
        policies,
        [
            {"rule": rule, "keep": keep, "unit": unit, "basis": basis, "updated_by": None, "updated_at": now}
            for rule, keep, unit, basis in DEFAULT_POLICIES
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("deletion_receipts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deletion_receipts_started_at"))
    op.drop_table("deletion_receipts")
    with op.batch_alter_table("tombstones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tombstones_deleted_at"))
    op.drop_table("tombstones")
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_holds_released_at"))
        batch_op.drop_index(batch_op.f("ix_legal_holds_recording_id"))
        batch_op.drop_index(batch_op.f("ix_legal_holds_customer_id"))
    op.drop_table("legal_holds")
    op.drop_table("retention_policies")
