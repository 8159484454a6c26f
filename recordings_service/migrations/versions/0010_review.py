"""Review of a call: annotations at timestamps, and per-segment verification against the audio.

Revision ID: 0010_review
Revises: 0007_merge_audit_truncate
Create Date: 2026-11-26 13:38:57
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import recordings_service.db

revision: str = "0010_review"
down_revision: str | Sequence[str] | None = "0007_merge_audit_truncate"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "annotations",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("recording_id", sa.String(length=26), nullable=False),
        sa.Column("at_s", sa.Double(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_id", sa.String(length=26), nullable=False),
        sa.Column("created_at", recordings_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_annotations_author_id_users")),
        sa.ForeignKeyConstraint(
            ["recording_id"], ["recordings.id"], name=op.f("fk_annotations_recording_id_recordings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotations")),
    )
    op.create_index(op.f("ix_annotations_recording_id"), "annotations", ["recording_id"], unique=False)
    op.create_table(
        "segment_verifications",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("transcript_id", sa.String(length=26), nullable=False),
        sa.Column("segment_index", sa.Integer(), nullable=False),
        sa.Column("segment_sha256", sa.String(length=64), nullable=False),
        sa.Column("verified_by", sa.String(length=26), nullable=False),
        sa.Column("verified_at", recordings_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["transcript_id"], ["transcripts.id"], name=op.f("fk_segment_verifications_transcript_id_transcripts")
        ),
        sa.ForeignKeyConstraint(["verified_by"], ["users.id"], name=op.f("fk_segment_verifications_verified_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment_verifications")),
        sa.UniqueConstraint("transcript_id", "segment_index", name="uq_segment_verifications_segment"),
    )


def downgrade() -> None:
    op.drop_table("segment_verifications")
    op.drop_index(op.f("ix_annotations_recording_id"), table_name="annotations")
    op.drop_table("annotations")
