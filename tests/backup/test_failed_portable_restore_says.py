"""What `callvault restore` tells the operator after the database refused a portable dump.

The load drops every table it made, so the database is as empty as before; the CLI still said "empty the
database", which sent the operator looking for tables that were not there.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Engine

from recordings_service import schema
from recordings_service.backup import archive, portable
from recordings_service.config import Settings
from recordings_service.db import make_engine
from recordings_service.storage.object_store import S3ObjectStore
from recordings_service.storage.spool import file_sha256
from web import cli

REFUSED_ROW = {"table": "audit_chain_head", "row": {"id": 1, "seq": 0, "last_hash": None}}


def migrated_sqlite(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    schema.upgrade(engine)
    return engine


def backup_with_a_refused_row(base_settings: Settings, bucket: S3ObjectStore, directory: Path) -> None:
    """A real backup (keys, manifest) whose database is a portable dump with a row the database refuses."""
    source = migrated_sqlite(directory.parent / "source.db")
    try:
        archive.write_backup(
            replace(base_settings, s3_bucket=bucket.bucket), source, bucket, directory=directory, objects=True
        )
    finally:
        source.dispose()
    manifest_path = directory / archive.MANIFEST
    manifest = json.loads(manifest_path.read_text())
    (directory / manifest["database"]["file"]).unlink()
    dump = directory / archive.PORTABLE_DUMP
    dump.write_text(json.dumps(REFUSED_ROW) + "\n")
    database = {**manifest["database"], "kind": "portable", "file": archive.PORTABLE_DUMP, "sha256": file_sha256(dump)}
    manifest_path.write_text(json.dumps({**manifest, "database": database}))


def test_a_refused_portable_load_says_the_database_was_left_empty(
    empty_database: str, base_settings: Settings, bucket: S3ObjectStore, tmp_path: Path
) -> None:
    directory = tmp_path / "backup"
    backup_with_a_refused_row(base_settings, bucket, directory)
    data_dir = tmp_path / "var"
    env = {
        "CALLVAULT_DATA_DIR": str(data_dir),
        "CALLVAULT_DATABASE_URL": empty_database,
        "CALLVAULT_S3_ENDPOINT": base_settings.s3_endpoint,
        "CALLVAULT_S3_BUCKET": bucket.bucket,
    }

    stopped = CliRunner().invoke(cli.main, ["restore", str(directory)], env=env)

    assert stopped.exit_code == 1
    assert "table audit_chain_head could not be inserted" in stopped.output
    assert not portable.holds_tables(empty_database)
    assert "empty the database" not in stopped.output
    assert (
        f"the restore stopped before it finished and left the database empty: remove {data_dir}, "
        "fix the cause and run the restore again"
    ) in stopped.stderr
