"""Retention dates stored before periods were counted in the organisation's calendar move to its dates.

Until 2026-12-06 a call's `retain_until` was its start plus its periods counted in UTC: a call made at 00:30 on
1 March in Helsinki began on 28 February in UTC, and six months from it ended on 28 August, three days before
1 September; across a change to or from summer time a period of days ended an hour off. Periods are now counted in
CALLVAULT_TIMEZONE (`privacy.retention.compute_retain_until`). Each live recording whose stored date is the one the
UTC count gives under the current policies gets the date the organisation's count gives; any other date was set by
something else and is left as it is: above all the calls an erasure kept for a legal duty only, whose date is that
duty's end, and calls whose date ingest counted in the offset the telephony system sent (+02:00 or +03:00 from a
Finnish one), which is the organisation's calendar but for the hour a change of summer time makes. The downgrade
keeps the new dates: the earlier ones were the defect.

The count is written out here, not imported: a migration does what it did when it was written, whatever the code
does later.

Revision ID: 0036_retention_in_zone
Revises: 0035_subject_deadlines
Create Date: 2026-12-06 02:10:00.000000
"""

import calendar
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

from recordings_service.config import Settings
from recordings_service.db import UTCDateTime

revision: str = "0036_retention_in_zone"
down_revision: str | Sequence[str] | None = "0035_subject_deadlines"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000

recordings = sa.table(
    "recordings",
    sa.column("id", sa.String),
    sa.column("customer_id", sa.String),
    sa.column("created_at", UTCDateTime()),
    sa.column("started_at", UTCDateTime()),
    sa.column("purposes", sa.JSON),
    sa.column("agreement_made", sa.Boolean),
    sa.column("retain_until", UTCDateTime()),
    sa.column("status", sa.String),
)
policies_table = sa.table(
    "retention_policies", sa.column("rule", sa.String), sa.column("keep", sa.Integer), sa.column("unit", sa.String)
)
requests = sa.table(
    "subject_requests",
    sa.column("customer_id", sa.String),
    sa.column("kind", sa.String),
    sa.column("completed_at", UTCDateTime()),
)

Policies = dict[str, tuple[int, str]]


def _end(start: datetime, keep: int, unit: str) -> datetime:
    if unit == "days":
        return start + timedelta(days=keep)
    months = start.month - 1 + keep
    year, month = start.year + months // 12, months % 12 + 1
    return start.replace(year=year, month=month, day=min(start.day, calendar.monthrange(year, month)[1]))


def _rules(purposes: list[str] | None, agreement_made: bool | None) -> set[str]:
    rules = set()
    for purpose in purposes or []:
        if purpose == "verification":
            rules.add("verification" if agreement_made else "no_agreement")
        else:
            rules.add(purpose)
    return rules or {"no_agreement"}


def _retain_until(policies: Policies, zone: tzinfo, started_at: datetime, rules: set[str]) -> datetime:
    start = started_at.astimezone(zone)
    latest = max(_end(start, *policies[rule]) for rule in rules)
    return min(latest, _end(start, *policies["maximum"])).astimezone(UTC)


def upgrade() -> None:
    zone = ZoneInfo(Settings.from_env().timezone)
    connection = op.get_bind()
    policies = {rule: (keep, unit) for rule, keep, unit in connection.execute(sa.select(policies_table))}
    kept_by_erasure = sa.exists().where(
        requests.c.customer_id == recordings.c.customer_id,
        requests.c.kind == "erasure",
        requests.c.completed_at >= recordings.c.created_at,
    )
    live = sa.select(
        recordings.c.id,
        recordings.c.started_at,
        recordings.c.purposes,
        recordings.c.agreement_made,
        recordings.c.retain_until,
    ).where(recordings.c.status != "deleted", recordings.c.retain_until.is_not(None), ~kept_by_erasure)
    last_id = ""
    while rows := connection.execute(
        live.where(recordings.c.id > last_id).order_by(recordings.c.id).limit(BATCH)
    ).all():
        last_id = rows[-1].id
        changes = []
        for row in rows:
            rules = _rules(row.purposes, row.agreement_made)
            if row.retain_until != _retain_until(policies, UTC, row.started_at, rules):
                continue
            moved = _retain_until(policies, zone, row.started_at, rules)
            if moved != row.retain_until:
                changes.append({"target": row.id, "moved": moved})
        if changes:
            connection.execute(
                sa.update(recordings)
                .where(recordings.c.id == sa.bindparam("target"))
                .values(retain_until=sa.bindparam("moved")),
                changes,
            )


def downgrade() -> None:
    pass
