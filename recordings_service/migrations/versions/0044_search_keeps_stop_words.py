"""Transcript search on PostgreSQL finds stop words: the index's rows are moved to copies of the `finnish`, `swedish` and
`english` text search configurations whose stemmers keep them (`search_index.create_search_configurations`). The built-in
ones leave out "ei", "en", "ja", "not", "no", "inte" and the like, so a search for "ei" alone found nothing, and one
for "en halua" every call saying "halua", where SQLite found what was said.

The document is generated anew: from the text with the dots, commas, slashes, colons and dashes between digits read
as spaces (`search_index.DIGIT_SEPARATOR`, as search reads the words typed): PostgreSQL's parser took "15.3.2026",
"120.50", "12/2025" and "2026-05-31" for one token each, so "2026" or "120,50" found none of them; and with the words
as said (`simple`) beside their stems, among which a prefix `word*` is looked up (a stem may be shorter than the
prefix typed). The column is dropped and added again (PostgreSQL 15 cannot change a generation expression) in the one
rewrite of the table that moves the rows to the copies, with its GIN index; ANALYZE then gives the planner the new
words' frequencies, which search reads to choose its plan.

A jobs process of the release before, still running on another host while one host upgrades (as infra/README.md has
it), indexes new transcripts with the built-in configurations, rows that this release's search would never match: a
trigger gives each row written with one of those the copy instead.

Revision ID: 0044_search_keeps_stop_words
Revises: 0043_forget_batch_pseudonyms
Create Date: 2026-12-07 06:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0044_search_keeps_stop_words"
down_revision: str | Sequence[str] | None = "0043_forget_batch_pseudonyms"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUILT_IN = ("finnish", "swedish", "english")
# As search_index.DIGIT_SEPARATOR was at this revision.
_DIGITS_APART = r"regexp_replace(text, '([0-9])[.,/:-](?=[0-9])', '\1 ', 'g')"
# The words as said weigh B, so that a prefix is looked up among them alone, and follow the stems 100 positions on (a
# lexeme no parser makes, a space, holds the gap and is deleted), so that no phrase is matched across the end of the
# stems and the start of the words: "90 days, pay 49" said 49 next to 90.
DOCUMENT = (
    # (op.execute reads ":name" as a parameter: the position's colon is escaped.)
    f"ts_delete(to_tsvector(config, {_DIGITS_APART}) || ''' ''\\:100'::tsvector"
    f" || setweight(to_tsvector('simple', {_DIGITS_APART}), 'B'), ' ')"
)
DOCUMENT_BEFORE = "to_tsvector(config, text)"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    from recordings_service.transcription.search_index import create_search_configurations

    create_search_configurations(op.get_bind())
    _rewrite({f"pg_catalog.{name}": f"callvault_{name}" for name in BUILT_IN}, DOCUMENT)
    op.execute(
        """
        CREATE FUNCTION search_segments_keep_stop_words() RETURNS trigger AS $$
        BEGIN
            NEW.config := CASE NEW.config
                WHEN 'pg_catalog.finnish'::regconfig THEN 'callvault_finnish'::regconfig
                WHEN 'pg_catalog.swedish'::regconfig THEN 'callvault_swedish'::regconfig
                WHEN 'pg_catalog.english'::regconfig THEN 'callvault_english'::regconfig
                ELSE NEW.config
            END;
            RETURN NEW;
        END;
        $$ LANGUAGE plpgsql
        """
    )
    # A BEFORE trigger runs before the generated document is computed, which so uses the copy.
    op.execute(
        """
        CREATE TRIGGER search_segments_keep_stop_words
        BEFORE INSERT OR UPDATE OF config ON search_segments
        FOR EACH ROW EXECUTE FUNCTION search_segments_keep_stop_words()
        """
    )
    op.execute("ANALYZE search_segments")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    from recordings_service.transcription.search_index import drop_search_configurations

    op.execute("DROP TRIGGER search_segments_keep_stop_words ON search_segments")
    op.execute("DROP FUNCTION search_segments_keep_stop_words()")
    _rewrite({f"callvault_{name}": f"pg_catalog.{name}" for name in BUILT_IN}, DOCUMENT_BEFORE)
    drop_search_configurations(op.get_bind())


def _rewrite(configs: dict[str, str], document: str) -> None:
    """Move the rows from each configuration to another and generate their documents by `document`, in one rewrite
    of the table (an update before it wrote each row once more, 1.7 times the table's size in all)."""
    moved = " ".join(f"WHEN '{was}'::regconfig THEN '{to}'::regconfig" for was, to in configs.items())
    op.execute(
        "ALTER TABLE search_segments DROP COLUMN document,"
        f" ALTER COLUMN config TYPE regconfig USING (CASE config {moved} ELSE config END),"
        f" ADD COLUMN document tsvector GENERATED ALWAYS AS ({document}) STORED"
    )
    op.execute("CREATE INDEX ix_search_segments_document ON search_segments USING gin (document)")
