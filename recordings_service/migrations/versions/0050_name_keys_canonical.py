"""Queues and agents are matched by keys in Unicode's canonical caseless form (`models.recording.name_key`, which is
`caseless_key`: decomposed, case folded, composed again), as tags are since 0049, not by case folding alone, which kept
"Sähkö" typed with decomposed letters (a + U+0308: a Mac's keyboard, text pasted from a PDF) apart from "SÄHKÖ" as the
telephony system sends it, composed: a supervisor's filter, picker entry or evaluation plan for one spelling found
none of the other's calls.

The keys of the calls stored before are recomputed from their names, `BATCH` calls read at a time in id order, and
only the calls whose keys change are written (most names are ASCII, whose keys stay). A key left by PostgreSQL's
trigger from `lower()` (a call a release before 0045 stored during that upgrade) is made the name's key too. The keys'
width stays: composing lengthens no key past the three characters a letter folds to at most (`KEY_WIDTH`). (0045
fills the keys with `name_key` as it stands, so a database upgraded from before 0045 has these keys already and this
revision writes none of them.)

On PostgreSQL the trigger that keys the calls of older writers (0045) composes their keys too, on insert and when a
key is set: a process of the release before, still running on another host while one host upgrades (infra/README.md),
keys its calls by case alone, and composing that key (NFC) gives exactly the canonical one (Python's full case folding
of a composed letter is canonically equivalent to the folding of its decomposition). A key left out, by a release
before 0045, is still made with `lower()`, of the decomposed name, composed. PostgreSQL's `normalize()` needs a UTF8
database (infra/postgresql.md makes one); on another the trigger is left as 0045 made it. Other sessions see the new
function only once this revision commits, so the keys the release before writes while it runs (a call whose id, made
before its upload, the recomputation has passed; a rectification) are composed last, in SQL, under the trigger's lock.

The downgrade puts 0045's trigger back first, then folds the keys by case alone again.

Revision ID: 0050_name_keys_canonical
Revises: 0049_tag_keys_canonical
Create Date: 2026-12-07 22:00:00.000000
"""

import unicodedata
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Connection

revision: str = "0050_name_keys_canonical"
down_revision: str | Sequence[str] | None = "0049_tag_keys_canonical"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As the table stands at this revision.
recordings = sa.table(
    "recordings",
    sa.column("id", sa.String),
    sa.column("queue", sa.String),
    sa.column("agent_ref", sa.String),
    sa.column("queue_key", sa.String),
    sa.column("agent_key", sa.String),
)
BATCH = 5000  # calls read at a time

TRIGGER = "recordings_keys_of_older_writers"
CANONICAL_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {TRIGGER}() RETURNS trigger AS $$
BEGIN
    NEW.queue_key := normalize(coalesce(NEW.queue_key, lower(normalize(NEW.queue, NFD))), NFC);
    NEW.agent_key := normalize(coalesce(NEW.agent_key, lower(normalize(NEW.agent_ref, NFD))), NFC);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
"""
# 0045's, which the downgrade puts back.
FOLDED_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {TRIGGER}() RETURNS trigger AS $$
BEGIN
    NEW.queue_key := coalesce(NEW.queue_key, lower(NEW.queue));
    NEW.agent_key := coalesce(NEW.agent_key, lower(NEW.agent_ref));
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    connection = op.get_bind()
    composes = connection.dialect.name == "postgresql" and (
        connection.exec_driver_sql("SHOW server_encoding").scalar() == "UTF8"
    )
    if composes:
        # With no lock on the table; other sessions see it only once the migration commits (see below).
        op.execute(CANONICAL_FUNCTION)
    _rekey(connection, canonical_key)
    if composes:
        # On an update too: the release before's rectification sets a queue and its key folded by case alone. Last:
        # replacing the trigger holds the table until the migration commits.
        _trigger("BEFORE INSERT OR UPDATE OF queue_key, agent_key")
        # Other sessions see the function made above only once the migration commits: what the release before wrote
        # meanwhile (a call whose id, made before its upload, the recomputation had passed; a rectification of a call
        # it had keyed) is keyed by case alone. The table held now, nothing more can come: those keys are composed.
        op.execute(
            "UPDATE recordings SET queue_key = normalize(queue_key, NFC), agent_key = normalize(agent_key, NFC)"
            " WHERE queue_key IS NOT NFC NORMALIZED OR agent_key IS NOT NFC NORMALIZED"
        )


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        # First: the trigger of this revision would compose the keys folded back below.
        op.execute(FOLDED_FUNCTION)
        _trigger("BEFORE INSERT")
    _rekey(connection, folded_key)


def canonical_key(name: str) -> str:
    """`name_key` as this revision defines it (kept here: a later change of it is a migration of its own)."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", name).casefold())


def folded_key(name: str) -> str:
    """The key of the revisions before: case folded."""
    return name.casefold()


def _trigger(when: str) -> None:
    op.execute(f"DROP TRIGGER {TRIGGER} ON recordings")
    op.execute(f"CREATE TRIGGER {TRIGGER} {when} ON recordings FOR EACH ROW EXECUTE FUNCTION {TRIGGER}()")


def _rekey(connection: Connection, key_of: Callable[[str], str]) -> None:
    """Each call's keys as `key_of` makes them, `BATCH` calls read at a time in id order, only the changed written."""
    update = (
        recordings.update()
        .where(recordings.c.id == sa.bindparam("row_id"))
        .values(queue_key=sa.bindparam("queue_new"), agent_key=sa.bindparam("agent_new"))
    )
    last = ""
    while True:
        rows = connection.execute(
            sa.select(
                recordings.c.id,
                recordings.c.queue,
                recordings.c.agent_ref,
                recordings.c.queue_key,
                recordings.c.agent_key,
            )
            .where(recordings.c.id > last)
            .order_by(recordings.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        changed = [
            {"row_id": row_id, "queue_new": key_of(queue), "agent_new": key_of(agent_ref)}
            for row_id, queue, agent_ref, queue_key, agent_key in rows
            if (key_of(queue), key_of(agent_ref)) != (queue_key, agent_key)
        ]
        if changed:
            connection.execute(update, changed)
        last = rows[-1].id
