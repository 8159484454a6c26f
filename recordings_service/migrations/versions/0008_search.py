"""Full-text search index of transcript segments: tsvector + GIN on PostgreSQL, FTS5 on SQLite.

Revision ID: 0008_search
Revises: 0007_merge_audit_truncate
Create Date: 2026-11-26 14:00:00

The index is dialect-specific DDL, not a model (see recordings_service/transcription/search_index.py); autogenerate
leaves it alone through `schema.include_object`. Transcripts saved before this revision are indexed
here, so search covers them at once.
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import select
from sqlalchemy.orm import Session

revision: str = "0008_search"
down_revision: str | Sequence[str] | None = "0007_merge_audit_truncate"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE TABLE search_segments (
                recording_id varchar(26) NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
                segment integer NOT NULL,
                start_s double precision NOT NULL,
                speaker varchar(20),
                text text NOT NULL,
                config regconfig NOT NULL,
                document tsvector GENERATED ALWAYS AS (to_tsvector(config, text)) STORED,
                CONSTRAINT pk_search_segments PRIMARY KEY (recording_id, segment)
            )
            """
        )
        op.execute("CREATE INDEX ix_search_segments_document ON search_segments USING gin (document)")
        from recordings_service.transcription.search_index import create_search_configurations

        # The transcripts stored already are indexed below by this release's code, with its configurations.
        create_search_configurations(op.get_bind())
    else:
        # remove_diacritics 0: in Finnish and Swedish ä, ö and å are letters of their own.
        op.execute(
            """
            CREATE VIRTUAL TABLE search_segments USING fts5(
                text, recording_id UNINDEXED, segment UNINDEXED, start_s UNINDEXED, speaker UNINDEXED,
                tokenize = 'unicode61 remove_diacritics 0'
            )
            """
        )
    _index_existing_transcripts()


def _index_existing_transcripts() -> None:
    from recordings_service.models import Transcript
    from recordings_service.transcription.search_index import index_segments

    # Only the columns this revision knows: the model may have grown since.
    session = Session(bind=op.get_bind())
    rows = session.execute(select(Transcript.recording_id, Transcript.language, Transcript.plain_segments)).all()
    for recording_id, language, segments in rows:
        index_segments(session, recording_id=recording_id, language=language, segments=segments)


def downgrade() -> None:
    op.execute("DROP TABLE search_segments")
    if op.get_bind().dialect.name == "postgresql":
        from recordings_service.transcription.search_index import drop_search_configurations

        drop_search_configurations(op.get_bind())
