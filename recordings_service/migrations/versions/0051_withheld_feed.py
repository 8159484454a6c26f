"""When a call was withheld from everyday use or given back to it: the feed a sync job keeps its copy by.

`GET /api/v1/withheld` lists the calls restricted (Art. 18) or kept by an erasure for a legal duty since a moment,
and those whose restriction was lifted, so that a copy made while they were in everyday use stops using them (Art.
19). The calls withheld before this migration are stamped with its moment: a copy may hold any of them, made before
they were withheld, and its next run learns of them.

Revision ID: 0051_withheld_feed
Revises: 0050_name_keys_canonical
Create Date: 2026-12-08 00:30:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import recordings_service.db

revision: str = "0051_withheld_feed"
down_revision: str | Sequence[str] | None = "0050_name_keys_canonical"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MOMENT = recordings_service.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    # Not in batch mode, as 0038: on SQLite a copy of the table loses 0027's indexes on expressions, and a column
    # that may be NULL is added in place on either database.
    op.add_column("recordings", sa.Column("withheld_changed_at", _MOMENT, nullable=True))
    recordings = sa.table(
        "recordings",
        sa.column("withheld_changed_at", _MOMENT),
        sa.column("restricted", sa.Boolean()),
        sa.column("erasure_kept", sa.Boolean()),
        sa.column("status", sa.String()),
    )
    op.execute(
        recordings.update()
        .where(sa.or_(recordings.c.restricted.is_(True), recordings.c.erasure_kept.is_(True)))
        .where(recordings.c.status != "deleted")
        .values(withheld_changed_at=datetime.now(UTC))
    )
    op.create_index("ix_recordings_withheld_changed", "recordings", ["withheld_changed_at", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_recordings_withheld_changed", table_name="recordings")
    # In place on either database (SQLite since 3.35): batch mode's copy of the table dropped the old one, which the
    # rows of other tables (a call's tags, its transcript) refer to, and SQLite refused it (FOREIGN KEY constraint
    # failed) wherever a call had any.
    op.execute("ALTER TABLE recordings DROP COLUMN withheld_changed_at")
