"""Subject requests registered before deadlines ran to the end of their last day keep the old, earlier deadline.

A period of months ends when the day of the same date ends (Regulation 1182/71, Art. 3(2)(c)); the code has
counted so since 2026-12-05 (`privacy.subjects.due_date`), but `due_at` and `extended_until` are stored, and a
request registered before then stayed due at the minute of its receipt a month later: overdue from that minute on,
no longer to be extended on its last day, and counted answered late when answered later that day. Each such
deadline now ends with its day in the organisation's time zone (CALLVAULT_TIMEZONE), in which the month was
counted; a deadline already at the end of its day is left as it is. The downgrade keeps the new deadlines: the
earlier ones were the defect.

Revision ID: 0035_subject_deadlines
Revises: 0034_job_runs
Create Date: 2026-12-05 23:10:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

from recordings_service.config import Settings
from recordings_service.db import UTCDateTime

revision: str = "0035_subject_deadlines"
down_revision: str | Sequence[str] | None = "0034_job_runs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

requests = sa.table(
    "subject_requests",
    sa.column("id", sa.String),
    sa.column("due_at", UTCDateTime()),
    sa.column("extended_until", UTCDateTime()),
)


def _end_of_its_day(moment: datetime, zone: ZoneInfo) -> datetime:
    local = moment.astimezone(zone)
    return datetime.combine(local.date(), time.max, tzinfo=zone).astimezone(UTC)


def upgrade() -> None:
    zone = ZoneInfo(Settings.from_env().timezone)
    connection = op.get_bind()
    rows = connection.execute(sa.select(requests.c.id, requests.c.due_at, requests.c.extended_until)).all()
    for request_id, due_at, extended_until in rows:
        values = {
            name: _end_of_its_day(moment, zone)
            for name, moment in (("due_at", due_at), ("extended_until", extended_until))
            if moment is not None and moment != _end_of_its_day(moment, zone)
        }
        if values:
            connection.execute(sa.update(requests).where(requests.c.id == request_id).values(**values))


def downgrade() -> None:
    pass
