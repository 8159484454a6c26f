"""What the operator meets when a backup or a restore cannot go through: a one-line refusal that names the cause,
given before anything is written, so that the same restore can be run again once the cause is fixed."""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine

from recordings_service.backup import archive
from recordings_service.config import Settings
from recordings_service.errors import Invalid, Unavailable
from recordings_service.runtime import Runtime
from recordings_service.storage.embedded import PORT_SPAN
from recordings_service.storage.object_store import ObjectInfo, S3ObjectStore, make_client
from tests.conftest import free_port_block
from web import cli, cli_backup, cli_support

PROBE = b"a stored object " * 64


@pytest.fixture
def backup_dir(
    settings: Settings, engine: Engine, bucket: S3ObjectStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A real backup of the test database and a bucket with two objects; PostgreSQL's as a portable dump, so that
    every backup here restores into a new SQLite data directory."""
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "pg_dump" else real_which(name))
    for key in ("derived/probe/one", "derived/probe/two"):
        bucket.put(key, io.BytesIO(PROBE))
    directory = tmp_path / "backup"
    own = replace(settings, s3_bucket=bucket.bucket)
    archive.write_backup(own, engine, bucket, directory=directory, objects=True)
    return directory


def restore(backup: Path, data_dir: Path, settings: Settings, bucket: str, *, database_url: str | None) -> Result:
    env = {
        "CALLVAULT_DATA_DIR": str(data_dir),
        "CALLVAULT_DATABASE_URL": database_url,
        "CALLVAULT_S3_ENDPOINT": settings.s3_endpoint,
        "CALLVAULT_S3_BUCKET": bucket,
    }
    return CliRunner().invoke(cli.main, ["restore", str(backup)], env=env)


def test_a_restore_into_a_used_database_writes_nothing_and_runs_again_into_an_empty_one(
    backup_dir: Path,
    settings: Settings,
    database_url: str,
    bucket: S3ObjectStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(archive, "PROGRESS_EVERY", 1)
    data_dir = tmp_path / "var"
    refused = restore(backup_dir, data_dir, settings, bucket.bucket, database_url=database_url)  # migrated already
    assert refused.exit_code == 1
    assert "the database already holds tables" in refused.output
    assert not data_dir.exists()  # no keys written: the restore can run again as it is

    retried = restore(backup_dir, data_dir, settings, bucket.bucket, database_url=None)  # SQLite in the data dir
    assert retried.exit_code == 0, retried.output
    assert "objects=2" in retried.output
    progress = [line for line in retried.stderr.splitlines() if line.startswith("restored objects")]
    assert progress == ["restored objects 1 of 2", "restored objects 2 of 2"]
    assert (data_dir / "secrets.env").is_file() and (data_dir / "callvault.db").is_file()


def test_a_damaged_backup_is_refused_by_name_before_anything_is_written(
    backup_dir: Path, settings: Settings, bucket: S3ObjectStore, tmp_path: Path
) -> None:
    data_dir = tmp_path / "var"
    manifest_path = backup_dir / archive.MANIFEST
    manifest = json.loads(manifest_path.read_text())

    dump = backup_dir / manifest["database"]["file"]
    with dump.open("ab") as changed:
        changed.write(b"\0")
    refused = restore(backup_dir, data_dir, settings, bucket.bucket, database_url=None)
    assert refused.exit_code == 1
    assert f"{dump} does not match its SHA-256 in the manifest" in refused.output
    assert not data_dir.exists()

    truncated = backup_dir / manifest["objects"][1]["file"]
    truncated.write_bytes(PROBE[:10])
    refused = restore(backup_dir, data_dir, settings, bucket.bucket, database_url=None)
    assert refused.exit_code == 1
    assert "1 of 2 object files are missing, truncated or without a SHA-256" in refused.output
    assert not data_dir.exists()

    unhashed = [manifest["objects"][0], {**manifest["objects"][1], "sha256": None}]  # as a listing-only entry
    truncated.write_bytes(PROBE)
    dump.write_bytes(dump.read_bytes()[:-1])  # the dump as the backup wrote it: only the hash is missing now
    manifest_path.write_text(json.dumps({**manifest, "objects": unhashed}))
    refused = restore(backup_dir, data_dir, settings, bucket.bucket, database_url=None)
    assert refused.exit_code == 1
    assert "1 of 2 object files are missing, truncated or without a SHA-256" in refused.output
    assert not data_dir.exists()  # refused before the keys were written: the same restore can run again

    manifest_path.write_text(json.dumps({**manifest, "objects": "all of them"}))
    refused = restore(backup_dir, data_dir, settings, bucket.bucket, database_url=None)
    assert refused.exit_code == 1 and "objects" in refused.output and "the backup is damaged" in refused.output
    assert "Traceback" not in refused.output and not data_dir.exists()

    manifest_path.write_text(json.dumps(manifest)[:-20])  # cut short, as a failed copy leaves it
    with pytest.raises(Invalid) as not_json:
        archive.read_manifest(backup_dir)
    assert not_json.value.field == "directory" and "is not JSON" in not_json.value.message


def test_a_backup_of_a_newer_release_is_refused_before_anything_is_written(
    backup_dir: Path, settings: Settings, bucket: S3ObjectStore, tmp_path: Path
) -> None:
    """It failed at the migrations ("Can't locate revision"), after the keys and every object were written."""
    manifest_path = backup_dir / archive.MANIFEST
    manifest = json.loads(manifest_path.read_text())
    newer = {**manifest["database"], "revisions": ["0099_from_a_later_release"]}
    manifest_path.write_text(json.dumps({**manifest, "database": newer}))
    data_dir = tmp_path / "var"
    refused = restore(backup_dir, data_dir, settings, bucket.bucket, database_url=None)
    assert refused.exit_code == 1
    assert "0099_from_a_later_release, which this release does not know" in refused.output
    assert not data_dir.exists()


# Unset or empty, the endpoint is the embedded store's (an empty one was taken for an external store: the backup left
# the embedded store's objects out, the restore took it, and the restored service had lost every recording).
@pytest.mark.parametrize("endpoint", [None, ""], ids=["unset", "empty"])
def test_objects_left_out_of_a_backup_are_refused_where_the_embedded_store_keeps_them(
    runtime: Runtime,
    settings: Settings,
    backup_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    endpoint: str | None,
) -> None:
    monkeypatch.setattr(cli_support, "load_runtime", lambda: runtime)
    embedded = {"CALLVAULT_S3_ENDPOINT": endpoint, "CALLVAULT_DATA_DIR": str(tmp_path / "var")}
    refused = CliRunner().invoke(cli.main, ["backup", "--no-objects", str(tmp_path / "listed")], env=embedded)
    assert refused.exit_code == 2 and "--no-objects" in refused.output
    assert not (tmp_path / "listed").exists()

    # A backup that lists its objects only cannot restore them into a new embedded store either.
    manifest_path = backup_dir / archive.MANIFEST
    manifest = json.loads(manifest_path.read_text())
    listed = [{**entry, "file": None} for entry in manifest["objects"]]
    manifest_path.write_text(json.dumps({**manifest, "objects_included": False, "objects": listed}))
    refused = CliRunner().invoke(cli.main, ["restore", str(backup_dir)], env=embedded)
    assert refused.exit_code == 1 and "CALLVAULT_S3_ENDPOINT" in refused.output
    assert not (tmp_path / "var").exists()


class _SweptWhileListed(S3ObjectStore):
    """The bucket as a retention sweep beside the backup leaves it: `key` is deleted right after it is listed."""

    def __init__(self, settings: Settings, bucket: str, key: str) -> None:
        super().__init__(make_client(settings), bucket)
        self.swept = key

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        for info in super().list(prefix):
            if info.key == self.swept:
                self.delete(info.key)
            yield info


def test_an_object_deleted_while_the_backup_runs_is_left_out_not_fatal(
    settings: Settings, engine: Engine, bucket: S3ObjectStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive, "PROGRESS_EVERY", 1)
    progress: list[tuple[int, int]] = []
    for key in ("derived/probe/kept", "derived/probe/swept"):
        bucket.put(key, io.BytesIO(PROBE))
    swept = _SweptWhileListed(settings, bucket.bucket, "derived/probe/swept")
    own = replace(settings, s3_bucket=bucket.bucket)
    summary = archive.write_backup(
        own,
        engine,
        swept,
        directory=tmp_path / "backup",
        objects=True,
        progress=lambda count, size: progress.append((count, size)),
    )
    assert summary.objects == 1 and progress == [(1, len(PROBE))]
    manifest = archive.read_manifest(tmp_path / "backup")
    assert [entry["key"] for entry in manifest["objects"]] == ["derived/probe/kept"]


def test_a_backup_that_fails_half_way_leaves_the_directory_empty_for_the_next_try(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    gone = S3ObjectStore(make_client(settings), "no-such-bucket-" + secrets.token_hex(4))
    with pytest.raises(Unavailable, match="NoSuchBucket"):  # after the database and the keys were written
        archive.write_backup(settings, engine, gone, directory=tmp_path / "backup", objects=True)
    assert list((tmp_path / "backup").iterdir()) == []  # no stray copy of the keys, and ready for the next try


def test_a_restore_whose_embedded_store_ports_are_taken_is_refused_naming_them_before_anything_is_written(
    backup_dir: Path, tmp_path: Path
) -> None:
    """Found by the backup drill: the restore started SeaweedFS on a taken port and ended in a traceback
    ("SeaweedFS exited with 1; see …/weed.log"), where `callvault run` names each port and its holder."""
    port = free_port_block(PORT_SPAN)
    with socket.socket() as first, socket.socket() as second:
        for holder, at in ((first, port), (second, port + 1)):
            holder.bind(("127.0.0.1", at))
            holder.listen()
        env = {"CALLVAULT_DATA_DIR": str(tmp_path / "var"), "CALLVAULT_S3_ENDPOINT": "", "CALLVAULT_S3_PORT": str(port)}
        refused = CliRunner().invoke(cli.main, ["restore", str(backup_dir)], env=env)

    assert refused.exit_code == 1, refused.output
    # Both held by this process: named once, with both ports.
    assert f"ports {port}, {port + 1} (embedded SeaweedFS) are in use by pid {os.getpid()}" in refused.output
    assert "Traceback" not in refused.output
    assert not (tmp_path / "var").exists()


def test_a_restore_stopped_at_its_first_step_leaves_a_directory_every_command_refuses(
    backup_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by testing the restore as an operator: killed as it started its store (after writing the keys), it left
    a data directory without the marker, which `callvault run` took for a new installation."""

    def store_fails(_self: object) -> None:
        raise RuntimeError("SeaweedFS exited with 1")

    monkeypatch.setattr(cli_backup.EmbeddedS3, "start", store_fails)
    data_dir = tmp_path / "var"
    env = {
        "CALLVAULT_DATA_DIR": str(data_dir),
        "CALLVAULT_S3_ENDPOINT": "",
        "CALLVAULT_S3_PORT": str(free_port_block(PORT_SPAN)),
    }
    stopped = CliRunner().invoke(cli.main, ["restore", str(backup_dir)], env=env)
    assert stopped.exit_code == 1 and (data_dir / "secrets.env").is_file()

    listed = CliRunner().invoke(cli.main, ["users", "list"], env=env)

    assert listed.exit_code == 1 and f"a restore into {data_dir} did not finish" in listed.output, listed.output
