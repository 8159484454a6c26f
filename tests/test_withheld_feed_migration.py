"""Migration 0051 stamps the calls withheld from everyday use before it (restricted, or kept by an erasure for a legal
duty) with its moment, so that a sync job's next read of `GET /api/v1/withheld` tells its copy, made while they were
in use; a call in use, or deleted (the deletion feed tells of it), is not stamped. The downgrade drops the column, in
place: in batch mode SQLite refused to drop the table a call's tags refer to (FOREIGN KEY constraint failed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from recordings_service import schema
from recordings_service.audit import Actor
from recordings_service.models.account import Role
from recordings_service.privacy.withheld_feed import WithheldWindow, list_withheld
from tests.factories.migrations import database_at, user_before

BEFORE = "0050_name_keys_canonical"
STARTED = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
RECORDING = text(
    "INSERT INTO recordings (id, source, external_call_id, started_at, duration_s, direction, queue, agent_ref,"
    " queue_key, agent_key, language, channels, codec, sample_rate, size_bytes, sha256, storage_key,"
    " wrapped_data_key, master_key_id, notice_given, status, purposes, legal_hold, restricted, erasure_kept,"
    " created_at, updated_at) VALUES (:id, 'pbx', :id, :started, 30.0, 'inbound', 'sales', 'agent-1', 'sales',"
    " 'agent-1', 'fi', 1, 'pcm_s16le', 8000, 1, :sha, :id, :key, 1, :yes, :status, '[\"verification\"]', :no,"
    " :restricted, :kept, :started, :started)"
)
SUPERVISOR = Actor(id="qa", name="qa", role=Role.QA_SUPERVISOR)
TAG = text(
    "INSERT INTO call_tags (id, recording_id, tag, key, tagged_by, created_at)"
    " VALUES (:id, :recording_id, 'sales', 'sales', :by, :at)"
)


def _call(name: str, *, restricted: bool = False, kept: bool = False, status: str = "transcribed") -> dict[str, object]:
    return {
        "id": name.ljust(26, "0"),
        "started": STARTED,
        "sha": "0" * 64,
        "key": b"k",
        "yes": True,
        "no": False,
        "restricted": restricted,
        "kept": kept,
        "status": status,
    }


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_calls_withheld_before_are_told_from_the_upgrade_on_and_the_downgrade_drops_the_column(
    kind: str, tmp_path: Path
) -> None:
    calls = [
        _call("INUSE"),
        _call("RESTRICTED", restricted=True),
        _call("KEPT", kept=True),
        _call("DELETED", restricted=True, status="deleted"),
    ]
    with database_at(BEFORE, kind, tmp_path) as engine:
        tagged_by = user_before(engine, role=Role.QA_SUPERVISOR, username="qa-withheld")
        with engine.begin() as connection:
            connection.execute(RECORDING, calls)
            tag = {"id": "T".ljust(26, "0"), "recording_id": calls[1]["id"], "by": tagged_by, "at": STARTED}
            connection.execute(TAG, tag)
        upgraded_from = datetime.now(UTC) - timedelta(seconds=1)

        schema.upgrade(engine)

        with Session(engine) as session:
            page = list_withheld(session, actor=SUPERVISOR, window=WithheldWindow(changed_from=upgraded_from))
        assert sorted(item.id for item in page.items) == sorted(str(call["id"]) for call in calls[1:3])
        assert all(item.withheld and item.changed_at >= upgraded_from for item in page.items)

        config = schema.alembic_config(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, BEFORE)
        assert "withheld_changed_at" not in {column["name"] for column in inspect(engine).get_columns("recordings")}
        schema.upgrade(engine)
