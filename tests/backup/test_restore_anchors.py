"""After a database restored onto the store it outlived, `callvault audit verify` is intact: the anchors the store
keeps of the events made between the backup and the restore (which replaced them) are not counted as a truncation;
those of the restored trail, and any made after the restore, still are.

Found by the backup drill: after `callvault restore` of a `--no-objects` backup onto its external store, every
verify failed with "anchored event … is missing", for as long as Object Lock keeps that anchor (years), so a real
truncation could no longer be told from the restore."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, func, select

from recordings_service.audit import record_event
from recordings_service.config import Settings
from recordings_service.models import AuditEvent
from recordings_service.runtime import Runtime
from tests.backup.conftest import callvault
from tests.factories.accounts import SYSTEM
from web import cli, cli_support


def test_verify_is_intact_after_a_restore_replaced_anchored_events_and_still_sees_a_truncation(
    sqlite_source: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_support, "load_runtime", lambda **_checks: sqlite_source)
    env = {"CALLVAULT_S3_ENDPOINT": sqlite_source.settings.s3_endpoint}
    with sqlite_source.sessions() as session:
        record_event(session, actor=SYSTEM, action="user.created", object_type="user", object_id="u1")
        session.commit()
    assert CliRunner().invoke(cli.main, ["audit", "verify"], env=env).exit_code == 0  # anchored before the backup
    made = CliRunner().invoke(cli.main, ["backup", "--no-objects", str(tmp_path / "backup")], env=env)
    assert made.exit_code == 0, made.output
    with sqlite_source.sessions() as session:
        record_event(session, actor=SYSTEM, action="user.created", object_type="user", object_id="u2")
        session.commit()
    after_backup = CliRunner().invoke(cli.main, ["audit", "verify"], env=env)
    assert "anchored event" in after_backup.output  # the head after the backup is anchored in the store
    monkeypatch.undo()
    url = f"sqlite:///{tmp_path / 'var' / 'callvault.db'}"
    data_dir = tmp_path / "var"
    restored = callvault(sqlite_source, "restore", str(tmp_path / "backup"), data_dir=data_dir, database_url=url)
    assert restored.exit_code == 0, restored.output

    verified = callvault(sqlite_source, "audit", "verify", data_dir=data_dir, database_url=url)

    assert verified.exit_code == 0, verified.output
    assert verified.output.startswith("intact (")
    # The restored trail's own anchors are still checked: its newest events deleted, verify finds them missing.
    target = Runtime.from_settings(
        Settings.from_env({"CALLVAULT_DATA_DIR": str(data_dir), "CALLVAULT_DATABASE_URL": url}),
        store=sqlite_source.store,
    )
    with target.sessions() as session:
        newest = session.scalar(select(func.max(AuditEvent.seq)))
        assert newest is not None
        session.execute(delete(AuditEvent).where(AuditEvent.seq >= newest - 1))
        session.commit()
    target.engine.dispose()
    truncated = callvault(sqlite_source, "audit", "verify", data_dir=data_dir, database_url=url)
    assert truncated.exit_code == 1 and "is missing" in truncated.output, truncated.output
