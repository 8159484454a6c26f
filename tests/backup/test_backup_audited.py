"""A backup's trail says how it ended: `backup.finished` with what it holds, or `backup.failed` with the error's kind,
after the `backup.started` that the backup itself carries. Found by exploratory testing: only `backup.started` was
written, so a backup that died of a full disk or a store gone looked, in the trail, like one that was taken."""

from __future__ import annotations

import secrets
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from recordings_service import schema
from recordings_service.config import Settings
from recordings_service.db import make_engine, make_sessionmaker
from recordings_service.models import AuditEvent
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore, make_client
from web import cli, cli_support


@pytest.fixture
def own(base_settings: Settings, envelope: Envelope, tmp_path: Path) -> Runtime:
    """A database of its own (a backup copies all of it) on a store bucket of its own."""
    engine = make_engine(f"sqlite:///{tmp_path / 'own.db'}")
    schema.upgrade(engine)
    bucket = S3ObjectStore(make_client(base_settings), "backup-" + secrets.token_hex(4))
    bucket.ensure_bucket()
    settings = replace(base_settings, database_url=str(engine.url), s3_bucket=bucket.bucket)
    return Runtime(
        settings=settings, engine=engine, sessions=make_sessionmaker(engine), store=bucket, envelope=envelope
    )


def back_up(runtime: Runtime, directory: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, list[AuditEvent]]:
    monkeypatch.setattr(cli_support, "load_runtime", lambda: runtime)
    env = {"CALLVAULT_S3_ENDPOINT": runtime.settings.s3_endpoint}  # an external store: --no-objects is allowed
    result = CliRunner().invoke(cli.main, ["backup", "--no-objects", str(directory)], env=env)
    with runtime.sessions() as session:
        events = list(
            session.scalars(select(AuditEvent).where(AuditEvent.action.like("backup.%")).order_by(AuditEvent.seq))
        )
    return result.exit_code, events


def test_a_backup_that_finished_says_what_it_holds(
    own: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exit_code, events = back_up(own, tmp_path / "backup", monkeypatch)

    assert exit_code == 0
    assert [event.action for event in events] == ["backup.started", "backup.finished"]
    assert events[1].details == {"database": "sqlite", "objects": 0, "object_bytes": 0}


def test_a_backup_that_failed_says_so(own: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gone = S3ObjectStore(make_client(own.settings), "no-such-bucket-" + secrets.token_hex(4))

    exit_code, events = back_up(replace(own, store=gone), tmp_path / "backup", monkeypatch)

    assert exit_code == 1
    assert [event.action for event in events] == ["backup.started", "backup.failed"]
    assert events[1].details == {"objects": False, "error": "Unavailable"}
