"""Building the runtime makes the data directory and the SQLite database private to the service's user."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from recordings_service.config import Settings
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import generate_master_key


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def settings_in(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, master_key=generate_master_key()).with_derived_defaults()


def test_a_new_data_directory_and_database_are_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    runtime = Runtime.from_settings(settings_in(data_dir))
    database = data_dir / "callvault.db"
    assert (mode(data_dir), mode(database)) == (0o700, 0o600)
    with runtime.engine.begin() as connection:  # SQLite gives its -wal and -shm files the database's mode
        connection.execute(text("CREATE TABLE probe (id INTEGER)"))
        journals = sorted(path.name for path in data_dir.iterdir() if path.name.startswith("callvault.db-"))
        assert journals == ["callvault.db-shm", "callvault.db-wal"]
        assert {mode(data_dir / name) for name in journals} == {0o600}
    runtime.engine.dispose()


def test_looser_modes_left_from_before_are_tightened(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    files = [data_dir / "callvault.db", data_dir / "callvault.db-wal", data_dir / "callvault.db-shm"]
    for path in files:
        path.touch()
        path.chmod(0o644)
    Runtime.from_settings(settings_in(data_dir)).engine.dispose()
    assert mode(data_dir) == 0o700
    assert {path.name: mode(path) for path in files} == {path.name: 0o600 for path in files}


def test_a_database_elsewhere_is_private_too_and_a_server_database_is_left_alone(tmp_path: Path) -> None:
    elsewhere = tmp_path / "db" / "cv.sqlite"
    elsewhere.parent.mkdir()
    elsewhere.touch(mode=0o666)
    elsewhere.chmod(0o666)
    settings = Settings(
        data_dir=tmp_path / "var", master_key=generate_master_key(), database_url=f"sqlite:///{elsewhere}"
    ).with_derived_defaults()
    Runtime.from_settings(settings).engine.dispose()
    assert mode(elsewhere) == 0o600
    server = Settings(
        data_dir=tmp_path / "var2",
        master_key=generate_master_key(),
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none",
    ).with_derived_defaults()
    Runtime.from_settings(server).engine.dispose()  # no connection is made when the runtime is built
    assert mode(tmp_path / "var2") == 0o700


def test_a_shared_directory_is_refused_rather_than_locked(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    with pytest.raises(ValueError, match="CALLVAULT_DATA_DIR is a shared directory"):
        Runtime.from_settings(settings_in(shared))
    assert mode(shared) == 0o1777
