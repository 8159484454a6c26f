"""Tags are matched by keys in Unicode's canonical caseless form (`calls.tags.tag_key`: decomposed, case folded,
composed again), not by case folding alone, which kept "äiti" typed with decomposed letters (a + U+0308: a Mac's
keyboard, text pasted from a PDF) and "äiti" typed composed apart: two tags on the call list, its tag filter and the
search API's `tag`, and both could be put on one call.

The keys of the tags stored before are recomputed, only the calls with a key that changes read twice. Where two tags
of one call come to share a key, the one put on first (`created_at`, then id) is kept, with its text as typed, and the
others are deleted: what tagging a call that has the tag already does (nothing). Their `recording.tagged` events stay
in the audit trail, naming rows that are gone (a migration signs no events of its own). The key is widened from 60 to
180 characters, as long as folding and composing can make a tag of 60: composing decomposes some letters (a
Devanagari letter with nukta, a Hebrew presentation form), so a tag stored before may get a longer key than it had.

The downgrade folds the keys back by case alone, by the same rule where two tags of a call then share one, and leaves
the key's width: the release before writes no longer key, and narrowing could refuse one this release stored.

A process of the release before, still running on another host while one host upgrades (infra/README.md), keys the
tags it adds by case alone: a tag typed with decomposed letters in that window is found as it was typed, not with its
composed spelling, until it is removed and added again. The window is the upgrade's.

Revision ID: 0049_tag_keys_canonical
Revises: 0048_customer_ref_lower_index
Create Date: 2026-12-07 22:00:00.000000
"""

import unicodedata
from collections.abc import Callable, Sequence
from itertools import groupby

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Connection

from recordings_service.db import UTCDateTime

revision: str = "0049_tag_keys_canonical"
down_revision: str | Sequence[str] | None = "0048_customer_ref_lower_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As the table stands at this revision.
call_tags = sa.table(
    "call_tags",
    sa.column("id", sa.String),
    sa.column("recording_id", sa.String),
    sa.column("tag", sa.String),
    sa.column("key", sa.String),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
# The table as 0024 made it, for SQLite's copy of it (reflecting it would reflect the calls' table and its customers',
# whose index on lower(customer_ref) SQLAlchemy cannot reflect: a warning at every upgrade).
call_tags_at_0048 = sa.Table(
    "call_tags",
    sa.MetaData(),
    sa.Column("id", sa.String(length=26), nullable=False),
    sa.Column("recording_id", sa.String(length=26), nullable=False),
    sa.Column("tag", sa.String(length=60), nullable=False),
    sa.Column("key", sa.String(length=60), nullable=False),
    sa.Column("tagged_by", sa.String(length=26), nullable=False),
    sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["recording_id"], ["recordings.id"], name="fk_call_tags_recording_id_recordings"),
    sa.ForeignKeyConstraint(["tagged_by"], ["users.id"], name="fk_call_tags_tagged_by_users"),
    sa.PrimaryKeyConstraint("id", name="pk_call_tags"),
    sa.UniqueConstraint("recording_id", "key", name="uq_call_tags_recording_key"),
    sa.Index("ix_call_tags_key", "key"),
)
BATCH = 5000  # tags read at a time
CALLS = 500  # calls whose tags are keyed again at a time


def upgrade() -> None:
    with op.batch_alter_table("call_tags", schema=None, copy_from=call_tags_at_0048) as batch_op:
        batch_op.alter_column("key", existing_type=sa.String(60), type_=sa.String(180), existing_nullable=False)
    _rekey(op.get_bind(), canonical_key)


def downgrade() -> None:
    _rekey(op.get_bind(), folded_key)


def canonical_key(tag: str) -> str:
    """`calls.tags.tag_key` as this revision defines it (kept here: a later change of it is a migration of its own)."""
    folded = unicodedata.normalize("NFD", " ".join(tag.split())).casefold()
    return unicodedata.normalize("NFC", folded)


def folded_key(tag: str) -> str:
    """The key of the revisions before: case folded, whitespace collapsed."""
    return " ".join(tag.split()).casefold()


def _rekey(connection: Connection, key_of: Callable[[str], str]) -> None:
    calls = sorted(_calls_with_keys_to_change(connection, key_of))
    for start in range(0, len(calls), CALLS):
        _rekey_calls(connection, calls[start : start + CALLS], key_of)


def _calls_with_keys_to_change(connection: Connection, key_of: Callable[[str], str]) -> set[str]:
    """The calls holding a tag whose key `key_of` changes, `BATCH` tags at a time in id order."""
    found: set[str] = set()
    last = ""
    while True:
        rows = connection.execute(
            sa.select(call_tags.c.id, call_tags.c.recording_id, call_tags.c.tag, call_tags.c.key)
            .where(call_tags.c.id > last)
            .order_by(call_tags.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return found
        found.update(recording_id for _, recording_id, tag, key in rows if key_of(tag) != key)
        last = rows[-1].id


def _rekey_calls(connection: Connection, calls: Sequence[str], key_of: Callable[[str], str]) -> None:
    """Each of `calls`' tags under its new key; of tags of one call sharing a key, the first put on kept."""
    rows = connection.execute(
        sa.select(call_tags.c.id, call_tags.c.recording_id, call_tags.c.tag, call_tags.c.key)
        .where(call_tags.c.recording_id.in_(calls))
        .order_by(call_tags.c.recording_id, call_tags.c.created_at, call_tags.c.id)
    ).all()
    dropped: list[str] = []
    moved: list[tuple[str, str]] = []
    for _, tags in groupby(rows, key=lambda row: row.recording_id):
        kept: set[str] = set()
        for tag_id, _, tag, key in tags:
            new = key_of(tag)
            if new in kept:
                dropped.append(tag_id)
                continue
            kept.add(new)
            if new != key:
                moved.append((tag_id, new))
    if dropped:
        connection.execute(sa.delete(call_tags).where(call_tags.c.id.in_(dropped)))
    if not moved:
        return
    update = call_tags.update().where(call_tags.c.id == sa.bindparam("tag_id")).values(key=sa.bindparam("new_key"))
    # First out of the way, under a key no tag has (a tab, which a key never holds: whitespace is collapsed to a
    # space): a tag may take the key another of its call still holds until its own turn comes.
    connection.execute(update, [{"tag_id": tag_id, "new_key": f"\t{tag_id}"} for tag_id, _ in moved])
    connection.execute(update, [{"tag_id": tag_id, "new_key": new} for tag_id, new in moved])
