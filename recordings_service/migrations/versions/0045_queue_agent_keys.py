"""Queue and agent are matched by keys folded in Python (`recordings.queue_key`, `agent_key`: `name_key`, which is
`str.casefold`), as tags are, not by the database's `lower()`.

SQLite's `lower()` folds ASCII letters alone (PostgreSQL's too under the C locale), so on SQLite a search for the
queue "sähkö" missed the calls stored as "SÄHKÖ", the picker (which merged names with Python's `casefold`) offered the
two as one entry that then found one spelling's calls, and a plan for the queue "ääni" drew nothing from "ÄÄNI". The
keys of the calls stored before are folded here, in batches by id; 0027's indexes on `lower(...)` are replaced by the
same ones on the keys (which a later table rebuild on SQLite keeps, as it did not keep those: 0039), and ANALYZE gives
PostgreSQL's planner the keys' frequencies, which 0027's indexes on expressions had given it for the lowered names.

The keys are NOT NULL with no default: a writer that forgets one is refused, never a call that no search finds. A
process of the release before, still running on another host while one host upgrades (infra/README.md), inserts
calls without them: on PostgreSQL (where hosts share the database) a trigger fills a key left out from its name with
`lower()`, so such a call is stored and found, not refused. `lower()` is not `casefold` ("Straße" stays "straße", and
under the C locale "ÄÄNI" stays as it is), so a call stored so with such a name, or whose queue that release's
rectification changes, is found by its name as `lower()` left it: the window is the upgrade's. SQLite cannot make a
column NOT NULL in place: its table is rebuilt once (batch mode), after 0027's indexes are dropped.

The migration holds `recordings` locked on PostgreSQL while it runs (adding the columns, filling them, indexing):
8.6–9.1 s at 100 000 calls on the 2-core test machine; reads and writes of calls wait for it.

Revision ID: 0045_queue_agent_keys
Revises: 0044_search_keeps_stop_words
Create Date: 2026-12-07 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0045_queue_agent_keys"
down_revision: str | Sequence[str] | None = "0044_search_keeps_stop_words"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As the table stood at this revision.
recordings = sa.table(
    "recordings",
    sa.column("id", sa.String),
    sa.column("queue", sa.String),
    sa.column("agent_ref", sa.String),
    sa.column("queue_key", sa.String),
    sa.column("agent_key", sa.String),
)
# Each name, its key and its index; a key is as wide as folding can make a name of 100 (`models.recording.KEY_WIDTH`).
NAMES = (
    ("queue", "queue_key", "ix_recordings_queue_newest"),
    ("agent_ref", "agent_key", "ix_recordings_agent_newest"),
)
KEY_TYPE = sa.String(300)
BATCH = 5000


def upgrade() -> None:
    for _, key, _ in NAMES:
        op.add_column("recordings", sa.Column(key, KEY_TYPE, nullable=True))
    _fill_keys()
    for _, _, index in NAMES:
        op.drop_index(index, table_name="recordings")
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        for _, key, _ in NAMES:
            batch_op.alter_column(key, existing_type=KEY_TYPE, nullable=False)
    for _, key, index in NAMES:
        op.create_index(index, "recordings", [key, "started_at", "id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION recordings_keys_of_older_writers() RETURNS trigger AS $$
            BEGIN
                NEW.queue_key := coalesce(NEW.queue_key, lower(NEW.queue));
                NEW.agent_key := coalesce(NEW.agent_key, lower(NEW.agent_ref));
                RETURN NEW;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        # BEFORE the row is checked: NOT NULL holds the filled keys.
        op.execute(
            """
            CREATE TRIGGER recordings_keys_of_older_writers BEFORE INSERT ON recordings
            FOR EACH ROW EXECUTE FUNCTION recordings_keys_of_older_writers()
            """
        )
        op.execute("ANALYZE recordings")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER recordings_keys_of_older_writers ON recordings")
        op.execute("DROP FUNCTION recordings_keys_of_older_writers()")
    for _, _, index in NAMES:
        op.drop_index(index, table_name="recordings")
    # In place on either database (SQLite since 3.35), as 0051's: batch mode's copy of the table dropped the old one,
    # which the rows of other tables (a call's tags, its transcript) refer to, and SQLite refused it (FOREIGN KEY
    # constraint failed) wherever a call had any.
    for _, key, _ in NAMES:
        op.execute(f"ALTER TABLE recordings DROP COLUMN {key}")
    # As 0027 made them.
    for name, _, index in NAMES:
        op.create_index(index, "recordings", [sa.text(f"lower({name})"), "started_at", "id"], unique=False)


def _fill_keys() -> None:
    """Each call's keys, `BATCH` calls at a time in id order, so that no statement holds every row's names at once."""
    from recordings_service.models.recording import name_key

    connection = op.get_bind()
    update = (
        recordings.update()
        .where(recordings.c.id == sa.bindparam("row_id"))
        .values(queue_key=sa.bindparam("queue_folded"), agent_key=sa.bindparam("agent_folded"))
    )
    last = ""
    while True:
        rows = connection.execute(
            sa.select(recordings.c.id, recordings.c.queue, recordings.c.agent_ref)
            .where(recordings.c.id > last)
            .order_by(recordings.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        connection.execute(
            update,
            [
                {"row_id": row_id, "queue_folded": name_key(queue), "agent_folded": name_key(agent_ref)}
                for row_id, queue, agent_ref in rows
            ],
        )
        last = rows[-1].id
