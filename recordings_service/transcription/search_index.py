"""The transcript search index, written when a transcript is saved.

The index keeps one row per transcript segment (recording, segment number, start time, speaker, text)
in `search_segments`, so a hit can say where in the call it was said. It is built by raw DDL per
dialect (migration 0008), not by a model:

- PostgreSQL: a plain table whose `document` tsvector is generated with the text search
  configuration of the transcript's language (`callvault_finnish`, `callvault_swedish`,
  `callvault_english`, else `simple`), so inflected forms find each other, and with `simple` (the
  words as said, which a prefix `word*` is looked up among: a stem may be shorter than the prefix
  typed, "sopimu" of "sopimusta" for `sopimus*`); GIN index. Rows go with
  their recording (ON DELETE CASCADE). The three are PostgreSQL's own `finnish`, `swedish` and
  `english` with stemmers that keep stop words (`create_search_configurations`): those left out
  "ei", "en", "not" and "inte", so a search for a refusal found nothing, or every call saying the
  verb after it.
- SQLite: an FTS5 table (unicode61 tokens, no stemming).

Searching it is `recordings_service.calls.search`. The index is the one place a transcript's words are kept
in clear (the transcript itself is sealed, see `recordings_service.transcript_text`): the database must see
words to match them. It holds the redacted twin's, so never the personal data redaction finds
(docs/security.md, "Transcripts at rest").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    text,
)
from sqlalchemy.dialects.postgresql import REGCONFIG, TSVECTOR
from sqlalchemy.orm import Session

from recordings_service.models import Transcript
from recordings_service.transcript_text import segments_of, twin_of

INDEX_TABLE = "search_segments"
# PostgreSQL text search configurations by transcript language; anything else is indexed as words.
CONFIG_BY_LANGUAGE = {"fi": "callvault_finnish", "sv": "callvault_swedish", "en": "callvault_english"}
FALLBACK_CONFIG = "simple"
CONFIGS = (*CONFIG_BY_LANGUAGE.values(), FALLBACK_CONFIG)
# Control characters never occur in indexed text (they are stripped here), so search can use them to
# mark highlights in the database's snippet output without the text ever being read as markup.
MARK_START, MARK_END = "\x02", "\x03"
# Put after a separator between digits in the text a snippet is drawn from (PostgreSQL), so that the parser reads the
# digits as the words the index holds, and taken out of the snippet.
DIGIT_MARK = "\x04"
# Dots, commas, slashes, colons and dashes between digits, read as spaces in the indexed text (the document migration
# 0044 generates) and in the words searched: PostgreSQL's parser takes "15.3.2026" or "120.50" for one token, and
# "2026" or "120,50" found neither. SQLite's tokenizer separates them by itself.
DIGIT_SEPARATOR = re.compile(r"([0-9])([.,/:-])(?=[0-9])")
_MARKS = re.compile(f"[{MARK_START}{MARK_END}{DIGIT_MARK}]")

# The index is not a model (its shape differs per dialect); this describes the columns both share.
index_rows = Table(
    INDEX_TABLE,
    MetaData(),
    Column("recording_id", String(26)),
    Column("segment", Integer),
    Column("start_s", Float),
    Column("speaker", String(20)),
    Column("text", Text),
    Column("config", REGCONFIG),  # PostgreSQL only
    Column("document", TSVECTOR),  # PostgreSQL only, generated
)


def is_index_table(name: str) -> bool:
    """The index's own tables (FTS5 adds shadow tables named after it), which autogenerate must ignore."""
    return name == INDEX_TABLE or name.startswith(INDEX_TABLE + "_")


def index_transcript(session: Session, transcript: Transcript) -> int:
    """Replace the recording's rows in the index with the transcript's redacted twin; returns how many.

    The index holds the twin only, for every role: a search can never find a call by, or show a snippet
    of, an identity code, card number, account, phone number or name (a customer's calls are found by
    their customer ref instead).
    """
    twin = twin_of(session, transcript)
    segments = twin if twin is not None else segments_of(session, transcript)
    return index_segments(
        session, recording_id=transcript.recording_id, language=transcript.language, segments=segments
    )


def index_segments(session: Session, *, recording_id: str, language: str, segments: Sequence[dict[str, Any]]) -> int:
    unindex_recording(session, recording_id=recording_id)
    postgres = session.get_bind().dialect.name == "postgresql"
    config = config_for(language)
    rows: list[dict[str, Any]] = []
    for number, segment in enumerate(segments):
        body = _MARKS.sub(" ", str(segment.get("text") or "")).strip()
        if not body:
            continue
        row = {
            "recording_id": recording_id,
            "segment": number,
            "start_s": float(segment.get("start") or 0.0),
            "speaker": segment.get("speaker"),
            "text": body,
        }
        if postgres:
            row["config"] = config
        rows.append(row)
    if rows:
        session.execute(insert(index_rows), rows)
    return len(rows)


def unindex_recording(session: Session, *, recording_id: str) -> None:
    """Remove a recording's transcript text from the index (deletion; PostgreSQL also cascades)."""
    session.execute(delete(index_rows).where(index_rows.c.recording_id == recording_id))


def digits_apart(passage: ColumnElement[Any]) -> ColumnElement[Any]:
    """The passage with `DIGIT_MARK` after each separator between digits, so that a snippet's parser reads the digits
    as the index has them ("2026" of "15.3.2026" is highlighted, and the snippet shows it); the snippet's reader takes
    the marks out again."""
    return func.regexp_replace(passage, DIGIT_SEPARATOR.pattern, r"\1\2" + DIGIT_MARK, "g")


def config_for(language: str) -> str:
    return CONFIG_BY_LANGUAGE.get(language.split("-", maxsplit=1)[0].lower(), FALLBACK_CONFIG)


def create_search_configurations(connection: Connection) -> None:
    """Make, where missing, the text search configurations `CONFIG_BY_LANGUAGE` names in the service's schema: copies of
    PostgreSQL's own whose Snowball stemmer has no stop-word list (a dictionary of that template without `StopWords`).

    Migration 0008 makes them before it indexes the transcripts already stored, with this release's configurations, and
    0044 where 0008 ran before they existed."""
    for ours in CONFIG_BY_LANGUAGE.values():
        builtin = ours.removeprefix("callvault_")
        made = connection.scalar(
            text(
                "SELECT count(*) FROM pg_ts_config"
                " WHERE cfgname = :name AND cfgnamespace = current_schema()::regnamespace"
            ),
            {"name": ours},
        )
        if made:
            continue
        connection.execute(
            text(f"CREATE TEXT SEARCH DICTIONARY {ours}_stem (TEMPLATE = snowball, Language = {builtin})")
        )
        connection.execute(text(f"CREATE TEXT SEARCH CONFIGURATION {ours} (COPY = pg_catalog.{builtin})"))
        connection.execute(
            text(
                f"ALTER TEXT SEARCH CONFIGURATION {ours}"
                f" ALTER MAPPING REPLACE pg_catalog.{builtin}_stem WITH {ours}_stem"
            )
        )


def drop_search_configurations(connection: Connection) -> None:
    for ours in CONFIG_BY_LANGUAGE.values():
        connection.execute(text(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {ours}"))
        connection.execute(text(f"DROP TEXT SEARCH DICTIONARY IF EXISTS {ours}_stem"))
