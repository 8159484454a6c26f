"""The search indexes (0027: on `lower(queue)`, `lower(agent_ref)`; since 0045 on the keys `queue_key`, `agent_key`)
exist in a database migrated to head.

Found by review of a warning `callvault run` printed on SQLite ("Skipped unsupported reflection of expression-based
index"): migration 0038 added a column in batch mode, which on SQLite copies the table with the indexes it can read
back, and these two it cannot, so every SQLite installation migrated past 0038 searched by queue or agent without
them. 0039 makes them again; 0045 makes them on columns, which a copy keeps."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from recordings_service import schema
from tests.factories.migrations import database_at, recordings_indexes

SEARCH_INDEXES = {"ix_recordings_agent_newest", "ix_recordings_queue_newest"}


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_database_migrated_to_head_has_the_search_indexes(kind: str, tmp_path: Path) -> None:
    with database_at("0037_research_access_ended", kind, tmp_path) as engine:
        assert recordings_indexes(engine) >= SEARCH_INDEXES
        schema.upgrade(engine)
        assert recordings_indexes(engine) >= SEARCH_INDEXES
        indexed = {index["name"]: index["column_names"] for index in inspect(engine).get_indexes("recordings")}
        assert indexed["ix_recordings_queue_newest"] == ["queue_key", "started_at", "id"]
        assert indexed["ix_recordings_agent_newest"] == ["agent_key", "started_at", "id"]
