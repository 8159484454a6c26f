"""A call's trail lists the searches that showed its words: `audit_event_recordings` links an event to each
recording its details name (`snippet_recordings` of `recording.searched`), indexed by recording. The links are
derived from the chained details alone and are not part of what the chain signs; this revision backfills them
from the events already written, so downgrading to 0031 and upgrading again rebuilds them. On PostgreSQL the
links are append-only, as the events are.

Revision ID: 0032_audit_event_recordings
Revises: 0031_research_closed_reason
Create Date: 2026-12-05 08:00:00.000000
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0032_audit_event_recordings"
down_revision: str | Sequence[str] | None = "0031_research_closed_reason"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As `audit.RECORDINGS_NAMED_IN` stood at this revision.
_NAMED_IN = {"recording.searched": "snippet_recordings"}
_BATCH = 1000


def upgrade() -> None:
    links = op.create_table(
        "audit_event_recordings",
        sa.Column("event_id", sa.String(length=26), nullable=False),
        sa.Column("recording_id", sa.String(length=26), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["audit_events.id"], name=op.f("fk_audit_event_recordings_event_id_audit_events")
        ),
        sa.PrimaryKeyConstraint("event_id", "recording_id", name=op.f("pk_audit_event_recordings")),
    )
    op.create_index(
        op.f("ix_audit_event_recordings_recording_id"), "audit_event_recordings", ["recording_id"], unique=False
    )
    _backfill(links)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION audit_event_recordings_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit_event_recordings is append-only';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            """
            CREATE TRIGGER audit_event_recordings_append_only
            BEFORE UPDATE OR DELETE ON audit_event_recordings
            FOR EACH ROW EXECUTE FUNCTION audit_event_recordings_append_only()
            """
        )
        op.execute(
            """
            CREATE TRIGGER audit_event_recordings_no_truncate
            BEFORE TRUNCATE ON audit_event_recordings
            FOR EACH STATEMENT EXECUTE FUNCTION audit_event_recordings_append_only()
            """
        )


def _backfill(links: sa.Table) -> None:
    """Read the events' details in Python, in batches by `seq`: JSON functions differ between the databases."""
    bind = op.get_bind()
    events = sa.table(
        "audit_events", sa.column("id"), sa.column("seq"), sa.column("action"), sa.column("details", sa.JSON)
    )
    after = 0
    while True:
        rows = bind.execute(
            sa.select(events.c.seq, events.c.id, events.c.action, events.c.details)
            .where(events.c.action.in_(list(_NAMED_IN)), events.c.seq > after)
            .order_by(events.c.seq)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        found: list[dict[str, Any]] = [
            {"event_id": event_id, "recording_id": recording_id}
            for _, event_id, action, details in rows
            for recording_id in dict.fromkeys(
                filter(None, str((details or {}).get(_NAMED_IN[action]) or "").split(","))
            )
        ]
        if found:
            bind.execute(links.insert(), found)
        after = rows[-1][0]


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_event_recordings_no_truncate ON audit_event_recordings")
        op.execute("DROP TRIGGER audit_event_recordings_append_only ON audit_event_recordings")
        op.execute("DROP FUNCTION audit_event_recordings_append_only()")
    op.drop_index(op.f("ix_audit_event_recordings_recording_id"), table_name="audit_event_recordings")
    op.drop_table("audit_event_recordings")
