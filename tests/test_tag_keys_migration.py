"""Migration 0049 keys the tags stored before it in Unicode's canonical caseless form, so that "äiti" typed with
decomposed letters and "Äiti" typed composed are one tag on either database: the filter finds both, and where one call
carries both, the one put on first is kept, as typed; a key that composing lengthens past 60 characters fits. The
downgrade folds the keys by case alone again."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from recordings_service import schema
from recordings_service.audit import Actor
from recordings_service.calls import tags
from recordings_service.calls.search import SearchFilters, search_calls
from recordings_service.models import CallTag
from recordings_service.models.account import Role
from tests.factories.migrations import database_at, user_before

BEFORE = "0048_customer_ref_lower_index"
BATCH = 5000  # the migration's: the decomposed tags come in its second batch of tags
STARTED = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
RECORDING = text(
    "INSERT INTO recordings (id, source, external_call_id, started_at, duration_s, direction, queue, agent_ref,"
    " queue_key, agent_key, language, channels, codec, sample_rate, size_bytes, sha256, storage_key,"
    " wrapped_data_key, master_key_id, notice_given, status, purposes, legal_hold, restricted, created_at,"
    " updated_at) VALUES (:id, 'pbx', :id, :started, 30.0, 'inbound', 'sales', 'agent-1', 'sales', 'agent-1', 'fi',"
    " 1, 'pcm_s16le', 8000, 1, :sha, :id, :key, 1, :yes, 'transcribed', '[\"verification\"]', :no, :no, :started,"
    " :started)"
)
TAG = text(
    "INSERT INTO call_tags (id, recording_id, tag, key, tagged_by, created_at)"
    " VALUES (:id, :recording_id, :tag, :key, :by, :at)"
)
COMPOSED = "Äiti"
DECOMPOSED = unicodedata.normalize("NFD", "äiti")
# 40 Devanagari letters with nukta, typed composed (U+0958): 40 characters, their key 80 (NFC decomposes them).
NUKTA = "\u0958" * 40


def _call(number: int) -> dict[str, object]:
    return {"id": f"R{number:025d}", "started": STARTED, "sha": "0" * 64, "key": b"k", "yes": True, "no": False}


def _tag(number: int, recording: int, tag: str, by: str, *, minutes: int = 0) -> dict[str, object]:
    """A tag as the release before stored it: keyed by case alone."""
    at = STARTED + timedelta(minutes=minutes)
    key = " ".join(tag.split()).casefold()
    return {"id": f"T{number:025d}", "recording_id": f"R{recording:025d}", "tag": tag, "key": key, "by": by, "at": at}


def _stored_before(engine: Engine) -> tuple[str, Actor]:
    """`BATCH` tags "sales" on call 0; then on call 1 the decomposed tag, and later the composed one; on call 2 the
    composed one alone, on call 3 the decomposed one alone, on call 4 the tag of nukta letters; the supervisor."""
    supervisor = user_before(engine, role=Role.QA_SUPERVISOR, username="qa-tags")
    actor = Actor(id=supervisor, name="qa-tags", role=Role.QA_SUPERVISOR)
    rows = [_tag(number, 0, f"sales {number}", actor.id) for number in range(BATCH)]
    rows += [
        _tag(BATCH, 1, DECOMPOSED, actor.id),
        _tag(BATCH + 1, 1, COMPOSED, actor.id, minutes=5),
        _tag(BATCH + 2, 2, COMPOSED, actor.id),
        _tag(BATCH + 3, 3, DECOMPOSED, actor.id),
        _tag(BATCH + 4, 4, NUKTA, actor.id),
    ]
    with engine.begin() as connection:
        connection.execute(RECORDING, [_call(number) for number in range(5)])
        connection.execute(TAG, rows)
    return f"R{1:025d}", actor


def _tagged(engine: Engine, tag: str) -> list[str]:
    with Session(engine) as session:
        page = search_calls(session, actor=QA_ACTOR, filters=SearchFilters(tag=tag), limit=10)
        session.commit()
        return sorted(item.recording.id for item in page.items)


QA_ACTOR = Actor(id="qa", name="qa", role=Role.QA_SUPERVISOR)


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_tags_stored_before_are_one_tag_in_either_unicode_form_and_the_downgrade_folds_case_alone(
    kind: str, tmp_path: Path
) -> None:
    with database_at(BEFORE, kind, tmp_path) as engine:
        both, actor = _stored_before(engine)
        calls = [f"R{number:025d}" for number in (1, 2, 3)]
        # The release before's keys: the decomposed ones apart (read in SQL: the models are this release's, whose
        # later columns the schema before lacks).
        with engine.connect() as connection:
            keyed = connection.scalars(
                text("SELECT recording_id FROM call_tags WHERE key = :key"), {"key": COMPOSED.casefold()}
            )
            assert sorted(keyed) == calls[:2]

        schema.upgrade(engine)

        assert _tagged(engine, COMPOSED) == calls
        assert _tagged(engine, DECOMPOSED) == calls
        assert _tagged(engine, NUKTA) == [f"R{4:025d}"]  # under its key of 80 characters
        with Session(engine) as session:
            # The call that had both keeps the one put on first, as typed; the other row went.
            assert tags.tags_of(session, [both]) == {both: [DECOMPOSED]}
            assert session.scalar(select(CallTag.id).where(CallTag.recording_id == both)) == f"T{BATCH:025d}"
            # Taken off by its composed spelling, and put on again by either, once.
            assert tags.untag_calls(session, actor=actor, recording_ids=calls, tag="äiti") == 3
            assert tags.tag_calls(session, actor=actor, recording_ids=[both], tag=COMPOSED) == 1
            assert tags.tag_calls(session, actor=actor, recording_ids=[both], tag=DECOMPOSED) == 0
            session.commit()
            keys = session.execute(select(CallTag.key).where(CallTag.recording_id != f"R{0:025d}")).scalars().all()
        assert sorted(keys) == sorted(["äiti", "\u0915\u093c" * 40])
        assert all(unicodedata.is_normalized("NFC", key) for key in keys)

        config = schema.alembic_config(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, BEFORE)

        with engine.connect() as connection:
            folded = connection.scalars(text("SELECT key FROM call_tags WHERE recording_id <> :r"), {"r": f"R{0:025d}"})
            assert sorted(folded) == sorted(["äiti", NUKTA])
            assert connection.scalar(text("SELECT count(*) FROM call_tags WHERE key LIKE 'sales %'")) == BATCH

        schema.upgrade(engine)

        assert _tagged(engine, DECOMPOSED) == [both]
