"""A restore whose environment sets another audit or master key than the backup's data was signed and sealed with
stops before it writes its own event, naming the key; the operator empties the database and runs it again. (A backup
that names the key ids its data needs is refused before anything is written: tests/backup/test_restore_needs_keys.py;
these are of backups from earlier releases, which do not, and the check after loading stays for them.)

Found by the backup drill: with another `CALLVAULT_AUDIT_KEY` set (the environment wins over the backup's keys), the
restore signed `backup.restored` with it, and `callvault run` with the backup's own key then refused to start; with
another master key it reported "restored", and every stored call then read as tampered with."""

from __future__ import annotations

import secrets
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from recordings_service.audit import key_id, record_event
from recordings_service.config import Settings
from recordings_service.db import make_engine, make_sessionmaker
from recordings_service.integrity import check_integrity
from recordings_service.models import AuditEvent, Recording
from recordings_service.runtime import RESTORING, Runtime
from recordings_service.storage.encryption import generate_master_key
from tests.backup.conftest import as_an_earlier_release_wrote_it, callvault
from tests.factories.accounts import SYSTEM
from tests.factories.audit import AUDIT_KEY
from tests.factories.recordings import ingest_file
from web import cli, cli_support


@pytest.mark.parametrize(
    ("setting", "value", "said"),
    [
        ("CALLVAULT_AUDIT_KEY", secrets.token_urlsafe(32), "signed with audit key"),
        ("CALLVAULT_MASTER_KEY", generate_master_key(), "does not open the data keys of the calls"),
    ],
    ids=["audit_key", "master_key"],
)
def test_a_restore_with_keys_other_than_the_backups_stops_before_its_own_event(
    sqlite_source: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str, value: str, said: str
) -> None:
    with sqlite_source.sessions() as session:
        ingest_file(session, sqlite_source.store, sqlite_source.envelope, sqlite_source.settings)
        session.commit()
    monkeypatch.setattr(cli_support, "load_runtime", lambda: sqlite_source)
    env = {"CALLVAULT_S3_ENDPOINT": sqlite_source.settings.s3_endpoint}
    made = CliRunner().invoke(cli.main, ["backup", "--no-objects", str(tmp_path / "backup")], env=env)
    assert made.exit_code == 0, made.output
    monkeypatch.undo()
    as_an_earlier_release_wrote_it(tmp_path / "backup")
    url = f"sqlite:///{tmp_path / 'var' / 'callvault.db'}"

    data_dir, keys = tmp_path / "var", {setting: value}
    refused = callvault(sqlite_source, "restore", str(tmp_path / "backup"), data_dir=data_dir, database_url=url, **keys)

    assert refused.exit_code == 1 and said in refused.output, refused.output
    assert "the restore stopped before it finished" in refused.output
    assert value not in refused.output
    engine = make_engine(url)
    with engine.connect() as connection:
        restored = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "backup.restored")
        assert connection.scalar(restored) == 0
    engine.dispose()
    # What it left is not taken for a restored installation: a command (as `run`) refuses it, saying why.
    # Found by re-running the drill: `callvault run` started on it, the deletions since the backup never replayed.
    started = callvault(sqlite_source, "retention", "check", data_dir=data_dir, database_url=url, **keys)
    assert started.exit_code == 1 and f"a restore into {data_dir} did not finish" in started.output, started.output


def test_a_backup_without_keys_restores_with_the_environments_and_asks_for_them_first(
    sqlite_source: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the backup drill: keeping the keys apart from the backups, as infra/postgresql.md advises, made every
    restore refuse ("keys/secrets.env is missing: the backup is incomplete"); `backup --no-keys` now leaves them out
    and the restore takes them from the environment."""
    with sqlite_source.sessions() as session:
        call = ingest_file(session, sqlite_source.store, sqlite_source.envelope, sqlite_source.settings).recording
        session.commit()
    monkeypatch.setattr(cli_support, "load_runtime", lambda: sqlite_source)
    env = {"CALLVAULT_S3_ENDPOINT": sqlite_source.settings.s3_endpoint}
    made = CliRunner().invoke(cli.main, ["backup", "--no-objects", "--no-keys", str(tmp_path / "backup")], env=env)
    assert made.exit_code == 0 and "no keys" in made.output, made.output
    assert not (tmp_path / "backup" / "keys").exists()
    monkeypatch.undo()
    backup, data_dir = str(tmp_path / "backup"), tmp_path / "var"
    url = f"sqlite:///{data_dir / 'callvault.db'}"

    asked = callvault(sqlite_source, "restore", backup, data_dir=data_dir, database_url=url)
    assert asked.exit_code == 1, asked.output
    unset = "CALLVAULT_MASTER_KEY, CALLVAULT_AUDIT_KEY, CALLVAULT_S3_ACCESS_KEY, CALLVAULT_S3_SECRET_KEY"
    assert f"this backup holds no keys (taken with --no-keys): set {unset} to the installation's" in asked.output
    assert not data_dir.exists()

    settings = sqlite_source.settings
    keys = {
        "CALLVAULT_MASTER_KEY": settings.master_key,
        "CALLVAULT_AUDIT_KEY": AUDIT_KEY,
        "CALLVAULT_S3_ACCESS_KEY": settings.s3_access_key,
        "CALLVAULT_S3_SECRET_KEY": settings.s3_secret_key,
    }
    restored = callvault(sqlite_source, "restore", backup, data_dir=data_dir, database_url=url, **keys)
    assert restored.exit_code == 0, restored.output
    assert "keys from the environment" in restored.output
    target = Runtime.from_settings(
        Settings.from_env({"CALLVAULT_DATA_DIR": str(data_dir), "CALLVAULT_DATABASE_URL": url, **keys}),
        store=sqlite_source.store,
    )
    with target.sessions() as session:
        assert check_integrity(session, target.store, target.envelope, actor=SYSTEM).intact
        assert session.get_one(Recording, call.id).sha256 == call.sha256
    target.engine.dispose()


def test_an_earlier_releases_backup_without_the_retired_audit_keys_stops_naming_the_key_and_leaves_its_marker(
    sqlite_source: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the README says of a backup of an earlier release (its manifest names no key ids) taken `--no-keys` after
    an audit key rotation, restored without `CALLVAULT_AUDIT_KEYS_OLD`: refused at its end naming the retired key, the
    data directory left marked; with the retired key it restores as before."""
    with sqlite_source.sessions() as session:
        record_event(session, actor=SYSTEM, action="test.before_rotation")  # signed with the key retired below
        session.commit()
    new_key = secrets.token_urlsafe(32)
    settings = replace(sqlite_source.settings, audit_key=new_key, audit_keys_old=AUDIT_KEY)
    rotated = replace(sqlite_source, settings=settings, sessions=make_sessionmaker(sqlite_source.engine))
    monkeypatch.setattr(cli_support, "load_runtime", lambda **_checks: rotated)
    env = {"CALLVAULT_S3_ENDPOINT": settings.s3_endpoint}
    made = CliRunner().invoke(cli.main, ["backup", "--no-objects", "--no-keys", str(tmp_path / "backup")], env=env)
    assert made.exit_code == 0, made.output
    monkeypatch.undo()
    as_an_earlier_release_wrote_it(tmp_path / "backup")
    data_dir = tmp_path / "var"
    keys = {
        "CALLVAULT_MASTER_KEY": settings.master_key,
        "CALLVAULT_AUDIT_KEY": new_key,
        "CALLVAULT_S3_ACCESS_KEY": settings.s3_access_key,
        "CALLVAULT_S3_SECRET_KEY": settings.s3_secret_key,
    }
    url = f"sqlite:///{data_dir / 'callvault.db'}"

    refused = callvault(sqlite_source, "restore", str(tmp_path / "backup"), data_dir=data_dir, database_url=url, **keys)

    said = refused.output
    assert refused.exit_code == 1 and f"holds events signed with audit key {key_id(AUDIT_KEY)}" in said, said
    assert "CALLVAULT_AUDIT_KEYS_OLD" in said and "the restore stopped before it finished: remove" in said, said
    assert (data_dir / RESTORING).is_file()

    again = tmp_path / "again"
    url = f"sqlite:///{again / 'callvault.db'}"
    keys["CALLVAULT_AUDIT_KEYS_OLD"] = AUDIT_KEY
    restored = callvault(sqlite_source, "restore", str(tmp_path / "backup"), data_dir=again, database_url=url, **keys)
    assert restored.exit_code == 0, restored.output
    assert not (again / RESTORING).exists()
