"""`callvault db upgrade` on a fresh database, as an operator runs it."""

from __future__ import annotations

import stat
from pathlib import Path

from click.testing import CliRunner

from recordings_service import schema
from recordings_service.db import make_engine
from web.cli import main


def test_db_upgrade_migrates_a_fresh_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    env = {
        "CALLVAULT_DATA_DIR": str(tmp_path),
        "CALLVAULT_DATABASE_URL": url,
    }
    result = CliRunner().invoke(main, ["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    engine = make_engine(url)
    assert schema.current_revisions(engine) == schema.head_revisions()
    assert "database at" in result.output
    again = CliRunner().invoke(main, ["db", "upgrade"], env=env)
    assert again.exit_code == 0


def test_db_upgrade_makes_a_new_sqlite_database_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    url = f"sqlite:///{data_dir / 'callvault.db'}"
    env = {"CALLVAULT_DATA_DIR": str(data_dir), "CALLVAULT_DATABASE_URL": url}

    result = CliRunner().invoke(main, ["db", "upgrade"], env=env)

    assert result.exit_code == 0, result.output
    assert stat.S_IMODE((data_dir / "callvault.db").stat().st_mode) == 0o600
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700


def test_commands_needing_keys_say_which_setting_is_missing(tmp_path: Path) -> None:
    env = {"CALLVAULT_DATA_DIR": str(tmp_path), "CALLVAULT_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    result = CliRunner().invoke(main, ["tokens", "revoke", "01NOTATOKEN"], env=env)
    assert result.exit_code == 1
    assert "CALLVAULT_MASTER_KEY is not set" in result.output
    assert "CALLVAULT_DATA_DIR" in result.output
    assert "Traceback" not in result.output
