"""Transcript search on PostgreSQL finds stop words: the index's rows are moved to copies of the `finnish`, `swedish` and
`english` text search configurations whose stemmers keep them (`search_index.create_search_configurations`). The built-in
ones leave out "ei", "en", "ja", "not", "no", "inte" and the like, so a search for "ei" alone found nothing, and one
for "en halua" every call saying "halua", where SQLite found what was said. Each row's document is generated again by
the update; ANALYZE then gives the planner the new words' frequencies, which search reads to choose its plan.

Revision ID: 0044_search_keeps_stop_words
Revises: 0043_forget_batch_pseudonyms
Create Date: 2026-12-07 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0044_search_keeps_stop_words"
down_revision: str | Sequence[str] | None = "0043_forget_batch_pseudonyms"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUILT_IN = ("finnish", "swedish", "english")
_MOVE = sa.text("UPDATE search_segments SET config = CAST(:to AS regconfig) WHERE config = CAST(:was AS regconfig)")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    from recordings_service.transcription.search_index import create_search_configurations

    create_search_configurations(op.get_bind())
    for name in BUILT_IN:
        op.execute(_MOVE.bindparams(to=f"callvault_{name}", was=f"pg_catalog.{name}"))
    op.execute("ANALYZE search_segments")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    from recordings_service.transcription.search_index import drop_search_configurations

    for name in BUILT_IN:
        op.execute(_MOVE.bindparams(to=f"pg_catalog.{name}", was=f"callvault_{name}"))
    drop_search_configurations(op.get_bind())
