"""Migration 0045 folds the queue and agent of the calls stored before it into their keys (`name_key`, batch by batch),
so that a search for the queue "ääni" finds a call stored as "ÄÄNI" on either database; its downgrade brings back
0027's indexes on `lower(...)`, and an upgrade after it fills the keys again. The downgrade drops the keys in place: in
batch mode SQLite refused to drop the calls' table a call's tags refer to (FOREIGN KEY constraint failed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.orm import Session

from recordings_service import schema
from recordings_service.calls.search import SearchFilters, search_calls
from recordings_service.models import Recording
from recordings_service.models.account import Role
from tests.factories.migrations import database_at, recordings_indexes, user_before
from tests.factories.search import QA

BEFORE = "0044_search_keeps_stop_words"
BATCH = 5000  # the migration's: the call in another alphabet comes in its second batch
STARTED = "2026-11-30 12:00:00"
INSERT = text(
    "INSERT INTO recordings (id, source, external_call_id, started_at, duration_s, direction, queue, agent_ref,"
    " language, channels, codec, sample_rate, size_bytes, sha256, storage_key, wrapped_data_key, master_key_id,"
    " notice_given, status, purposes, legal_hold, restricted, created_at, updated_at) VALUES (:id, 'pbx', :id,"
    " :started, 30.0, 'inbound', :queue, :agent, 'fi', 1, 'pcm_s16le', 8000, 1, :sha, :id, :key, 1, :yes,"
    " 'transcribed', '[\"verification\"]', :no, :no, :started, :started)"
)
LOWER_INDEXES = {"ix_recordings_queue_newest", "ix_recordings_agent_newest"}
TAG = text(
    "INSERT INTO call_tags (id, recording_id, tag, key, tagged_by, created_at)"
    " VALUES (:id, :recording_id, 'ääni', 'ääni', :by, :started)"
)


def _rows() -> list[dict[str, object]]:
    """`BATCH` calls of the queue "sales", then one of "ÄÄNI" taken by "ÅSA"."""
    names = [("sales", "agent-1")] * BATCH + [("ÄÄNI", "ÅSA")]
    return [
        {"id": f"R{number:025d}", "queue": queue, "agent": agent, "started": STARTED, "sha": "0" * 64,
         "key": b"k", "yes": True, "no": False}
        for number, (queue, agent) in enumerate(names)
    ]  # fmt: skip


def _found(engine: Engine, **filters: str) -> list[str]:
    with Session(engine) as session:
        page = search_calls(session, actor=QA, filters=SearchFilters(**filters), limit=10)
        session.commit()
        return [item.recording.id for item in page.items]


def _downgrade(engine: Engine) -> None:
    config = schema.alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, BEFORE)


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_calls_stored_before_are_found_in_any_letter_case_and_the_downgrade_restores_lower(
    kind: str, tmp_path: Path
) -> None:
    with database_at(BEFORE, kind, tmp_path) as engine:
        tagged_by = user_before(engine, role=Role.QA_SUPERVISOR, username="qa-keys")
        last = f"R{BATCH:025d}"
        with engine.begin() as connection:
            connection.execute(INSERT, _rows())
            tag = {"id": "T".ljust(26, "0"), "recording_id": last, "by": tagged_by, "started": STARTED}
            connection.execute(TAG, tag)

        schema.upgrade(engine)

        assert _found(engine, queue="ääni") == [last]
        assert _found(engine, agent_ref="åsa") == [last]
        with engine.connect() as connection:
            keys = connection.execute(
                select(Recording.queue_key, Recording.agent_key, func.count()).group_by(
                    Recording.queue_key, Recording.agent_key
                )
            ).all()
        assert sorted(tuple(row) for row in keys) == [("sales", "agent-1", BATCH), ("ääni", "åsa", 1)]

        _downgrade(engine)

        columns = {column["name"] for column in inspect(engine).get_columns("recordings")}
        assert not {"queue_key", "agent_key"} & columns and {"queue", "agent_ref"} <= columns
        assert recordings_indexes(engine) >= LOWER_INDEXES
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM recordings WHERE lower(queue) = 'sales'")) == BATCH
            assert connection.scalar(text("SELECT recording_id FROM call_tags")) == last

        schema.upgrade(engine)

        assert _found(engine, queue="ÄäNi") == [last]
        indexed = {index["name"]: index["column_names"] for index in inspect(engine).get_indexes("recordings")}
        assert indexed["ix_recordings_queue_newest"] == ["queue_key", "started_at", "id"]
        assert indexed["ix_recordings_agent_newest"] == ["agent_key", "started_at", "id"]


@pytest.mark.postgres
def test_a_call_inserted_as_the_release_before_writes_it_gets_its_keys(tmp_path: Path) -> None:
    """A web or jobs process of the release before, on a host not yet upgraded while another is (infra/README.md),
    inserts calls without the keys: the NOT NULL keys refused them. PostgreSQL fills them from the names."""
    with database_at(BEFORE, "postgresql", tmp_path) as engine:
        schema.upgrade(engine)
        [older_writer] = _rows()[-1:]
        with engine.begin() as connection:
            connection.execute(INSERT, [older_writer])

        assert _found(engine, queue="ääni") == [older_writer["id"]]
        assert _found(engine, agent_ref="Åsa") == [older_writer["id"]]
