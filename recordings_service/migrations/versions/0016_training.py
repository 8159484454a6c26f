"""The training library: nominations, clips, training sets with their items and exports, the pseudonym key.

Revision ID: 0016_training
Revises: 0015_research
Create Date: 2026-12-01 22:31:03.726277
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import recordings_service.db

revision: str = "0016_training"
down_revision: str | Sequence[str] | None = "0015_research"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "training_secrets",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("master_key_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", recordings_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_training_secrets")),
    )
    op.create_table(
        "training_sets",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("owner_id", sa.String(length=26), nullable=True),
        sa.Column("created_at", recordings_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", recordings_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_training_sets_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_sets")),
    )
    with op.batch_alter_table("training_sets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_sets_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "training_clips",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("recording_id", sa.String(length=26), nullable=False),
        sa.Column("start_s", sa.Double(), nullable=False),
        sa.Column("end_s", sa.Double(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("opus_key", sa.String(length=200), nullable=False),
        sa.Column("opus_size", sa.BigInteger(), nullable=False),
        sa.Column("mp3_key", sa.String(length=200), nullable=False),
        sa.Column("mp3_size", sa.BigInteger(), nullable=False),
        sa.Column("muted_spans", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=26), nullable=True),
        sa.Column("created_at", recordings_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", recordings_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("removed_at", recordings_service.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("removed_reason", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_training_clips_created_by_users")),
        sa.ForeignKeyConstraint(
            ["recording_id"], ["recordings.id"], name=op.f("fk_training_clips_recording_id_recordings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_clips")),
    )
    with op.batch_alter_table("training_clips", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_clips_created_by"), ["created_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_training_clips_recording_id"), ["recording_id"], unique=False)

    op.create_table(
        "training_exports",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("set_id", sa.String(length=26), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("clip_ids", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=26), nullable=True),
        sa.Column("created_at", recordings_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", recordings_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("downloads", sa.Integer(), nullable=False),
        sa.Column("last_download_at", recordings_service.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_training_exports_created_by_users")),
        sa.ForeignKeyConstraint(
            ["set_id"], ["training_sets.id"], name=op.f("fk_training_exports_set_id_training_sets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_exports")),
    )
    with op.batch_alter_table("training_exports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_exports_set_id"), ["set_id"], unique=False)

    op.create_table(
        "training_nominations",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("recording_id", sa.String(length=26), nullable=False),
        sa.Column("start_s", sa.Double(), nullable=True),
        sa.Column("end_s", sa.Double(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=26), nullable=True),
        sa.Column("created_at", recordings_service.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_training_nominations_created_by_users")),
        sa.ForeignKeyConstraint(
            ["recording_id"], ["recordings.id"], name=op.f("fk_training_nominations_recording_id_recordings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_nominations")),
    )
    with op.batch_alter_table("training_nominations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_nominations_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_training_nominations_recording_id"), ["recording_id"], unique=False)

    op.create_table(
        "training_set_items",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("set_id", sa.String(length=26), nullable=False),
        sa.Column("clip_id", sa.String(length=26), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clip_id"], ["training_clips.id"], name=op.f("fk_training_set_items_clip_id_training_clips")
        ),
        sa.ForeignKeyConstraint(
            ["set_id"], ["training_sets.id"], name=op.f("fk_training_set_items_set_id_training_sets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_set_items")),
        sa.UniqueConstraint("set_id", "clip_id", name="uq_training_set_items_clip"),
        sa.UniqueConstraint("set_id", "position", name="uq_training_set_items_position"),
    )
    with op.batch_alter_table("training_set_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_set_items_clip_id"), ["clip_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("training_set_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_set_items_clip_id"))

    op.drop_table("training_set_items")
    with op.batch_alter_table("training_nominations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_nominations_recording_id"))
        batch_op.drop_index(batch_op.f("ix_training_nominations_kind"))

    op.drop_table("training_nominations")
    with op.batch_alter_table("training_exports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_exports_set_id"))

    op.drop_table("training_exports")
    with op.batch_alter_table("training_clips", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_clips_recording_id"))
        batch_op.drop_index(batch_op.f("ix_training_clips_created_by"))

    op.drop_table("training_clips")
    with op.batch_alter_table("training_sets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_sets_owner_id"))

    op.drop_table("training_sets")
    op.drop_table("training_secrets")
