"""Found in an exploratory pass of search in Finnish, Swedish and English: on PostgreSQL a search for a stop word of the
call's language ("ei", "en", "not", "inte") found nothing when typed alone, and was left out of a search of several
words, so "en halua" ("I don't want") found every call saying "halua" and "not agree" every call agreeing, where
SQLite found what was said. The index's configurations now keep stop words (migration 0044 moves the rows indexed
before it)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from recordings_service import schema
from recordings_service.calls.search import search_calls
from recordings_service.calls.transcript_matches import said_in_transcripts
from recordings_service.models import Recording
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.migrations import database_at, stored_before
from tests.factories.recordings import make_recording
from tests.factories.search import PLANS, QA, force_plan, found, on_day, random_day, transcribed_call

CALLS = {
    "refuses": ("fi", ["Hyvää päivää.", "En halua uutta sopimusta.", "Ei käy."]),
    "wants": ("fi", ["Hyvää päivää.", "Me halua vaihtaa sopimusta.", "Kiitos."]),
    "disagrees": ("en", ["Good morning.", "I do not agree to the new price."]),
    "agrees": ("en", ["Good morning.", "I agree to the new price."]),
    "keeps": ("sv", ["God morgon.", "Jag vill inte byta avtal."]),
    "changes": ("sv", ["God morgon.", "Jag vill byta avtal."]),
}


@pytest.mark.parametrize("plan", PLANS)
def test_stop_words_are_searched_as_said(
    session: Session, store: S3ObjectStore, envelope: Envelope, plan: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    force_plan(monkeypatch, plan)
    day = random_day()
    ids = {}
    for minute, (name, (language, lines)) in enumerate(CALLS.items()):
        call = transcribed_call(
            session, store, envelope, started_at=day + timedelta(minutes=minute), lines=lines, language=language
        )
        ids[call.id] = name

    def names(query: str, **filters: str) -> list[str]:
        return [ids[recording_id] for recording_id in found(session, day, query, **filters)]

    assert names("ei") == ["refuses"]
    assert names("en halua") == ["refuses"]
    assert names('"en halua"') == ["refuses"]
    assert names("ei", language="fi") == ["refuses"]
    assert names("not") == ["disagrees"]
    assert names("not agree") == ["disagrees"]
    assert names('"do not agree"', language="en") == ["disagrees"]
    assert names("inte") == ["keeps"]
    assert names("inte byta", language="sv") == ["keeps"]
    assert names("the") == ["agrees", "disagrees"]


def test_a_stop_word_is_highlighted_in_the_snippet(session: Session, store: S3ObjectStore, envelope: Envelope) -> None:
    day = random_day()
    call = transcribed_call(session, store, envelope, started_at=day, lines=CALLS["refuses"][1], language="fi")

    [item] = search_calls(session, actor=QA, query="ei", filters=on_day(day)).items

    assert item.recording.id == call.id
    assert [[piece for piece, highlighted in hit.parts if highlighted] for hit in item.hits] == [["Ei"]]


def test_a_call_indexed_by_the_release_before_during_an_upgrade_is_found(
    session: Session, store: S3ObjectStore, envelope: Envelope, db_kind: str
) -> None:
    """Found in review: hosts upgrade one after another (infra/README.md), and a jobs process of the release before
    indexed new transcripts with the built-in configurations after migration 0044: rows no search matched."""
    if db_kind != "postgresql":
        pytest.skip("SQLite's index has no text search configuration")
    call = make_recording(session, store, envelope, language="fi")
    # As that release's `index_segments` wrote a Finnish passage.
    session.execute(
        text(
            "INSERT INTO search_segments (recording_id, segment, start_s, speaker, text, config)"
            " VALUES (:id, 0, 0.0, 'customer', 'Ei käy, en halua.', 'finnish')"
        ),
        {"id": call.id},
    )

    for words in ("ei", "halua", '"en halua"'):
        assert session.scalars(select(Recording.id).where(said_in_transcripts(session, words))).all() == [call.id]


@pytest.mark.postgres
def test_the_upgrade_makes_calls_indexed_before_it_searchable_by_stop_words(
    tmp_path: Path, store: S3ObjectStore, envelope: Envelope
) -> None:
    with database_at("0043_forget_batch_pseudonyms", "postgresql", tmp_path) as engine:
        with Session(engine) as session:
            call_id = stored_before(session, store, envelope, language="fi")
            # As the release before indexed a Finnish transcript: the built-in configuration, which drops "ei".
            session.execute(
                text(
                    "INSERT INTO search_segments (recording_id, segment, start_s, speaker, text, config)"
                    " VALUES (:id, 0, 0.0, 'customer', 'Ei käy, en halua.', 'finnish')"
                ),
                {"id": call_id},
            )
            session.commit()

        schema.upgrade(engine)

        with Session(engine) as session:
            assert session.scalars(select(Recording.id).where(said_in_transcripts(session, "ei"))).all() == [call_id]
            assert session.scalars(select(Recording.id).where(said_in_transcripts(session, "halua"))).all() == [call_id]
            document = session.scalar(text("SELECT document::text FROM search_segments"))
    # Stemmed, stop words kept, then 100 positions on the words as said (where a prefix is looked up).
    assert document == "'ei':1,105B 'en':3,107B 'halu':4 'halua':108B 'käy':2,106B"
