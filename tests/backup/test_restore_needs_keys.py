"""A restore whose keys lack one the backup's data needs is refused before it writes anything, naming the key id.

Found by an operator's drill: a backup taken `--no-keys`, restored without a retired audit key that signed events (or
without an old master key calls were wrapped under), copied every object and loaded the database, and only then was
refused by the check a process makes as it starts, leaving `RESTORING` and a database to empty: hours on a large
store. The backup now records the key ids in its manifest, and the restore compares them with its keys first."""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, update

from recordings_service import schema
from recordings_service.audit import key_id, record_event
from recordings_service.backup import archive
from recordings_service.backup.portable import holds_tables
from recordings_service.config import Settings
from recordings_service.db import make_engine, make_sessionmaker
from recordings_service.models import Recording
from recordings_service.runtime import RESTORING, Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore, make_client
from tests.backup.conftest import callvault
from tests.conftest import private_postgres_schema
from tests.factories.accounts import SYSTEM
from tests.factories.audit import AUDIT_KEY
from tests.factories.keysets import only_primary, rotated
from tests.factories.recordings import ingest_file
from web import cli, cli_support

NEW_AUDIT_KEY = secrets.token_urlsafe(32)


@pytest.fixture
def source(
    empty_database: str, base_settings: Settings, envelope: Envelope, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    """A database of the restore target's kind and a bucket of its own, after a rotation of both keys: a call stored
    and an event signed before it (under `envelope`'s master key and `AUDIT_KEY`) and after it. A PostgreSQL one is
    backed up as a portable dump, which loads into the target's empty schema."""
    bucket = S3ObjectStore(make_client(base_settings), "needs-" + secrets.token_hex(4))
    bucket.ensure_bucket()
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "pg_dump" else real_which(name))
    with private_postgres_schema("nk_") if empty_database.startswith("postgresql") else _sqlite(tmp_path) as url:
        engine = make_engine(url)
        own = {"database_url": url, "s3_bucket": bucket.bucket, "audit_key": AUDIT_KEY}
        before = Runtime(
            settings=Settings(**{**base_settings.__dict__, **own}),
            engine=engine,
            sessions=make_sessionmaker(engine),
            store=bucket,
            envelope=envelope,
        )
        master_key = rotated(base_settings.master_key)
        settings = replace(before.settings, master_key=master_key, audit_key=NEW_AUDIT_KEY, audit_keys_old=AUDIT_KEY)
        after = replace(
            before, settings=settings, sessions=make_sessionmaker(engine), envelope=Envelope(settings.master_key)
        )
        for runtime in (before, after):
            with runtime.sessions() as session:
                ingest_file(session, bucket, runtime.envelope, runtime.settings)
                record_event(session, actor=SYSTEM, action="test.signed")
                session.commit()
        yield after
        engine.dispose()
    for info in bucket.list(""):
        bucket.delete(info.key)


@contextmanager
def _sqlite(root: Path) -> Iterator[str]:
    """A migrated SQLite database under `root`, as a URL."""
    url = f"sqlite:///{root / 'source.db'}"
    engine = make_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    yield url


def back_up(source: Runtime, directory: Path, monkeypatch: pytest.MonkeyPatch, *options: str) -> None:
    monkeypatch.setattr(cli_support, "load_runtime", lambda **_checks: source)
    env = {"CALLVAULT_S3_ENDPOINT": source.settings.s3_endpoint}
    made = CliRunner().invoke(cli.main, ["backup", "--no-objects", *options, str(directory)], env=env)
    assert made.exit_code == 0, made.output


def environment(source: Runtime) -> dict[str, str]:
    """The keys an installation's environment sets, as the source holds them."""
    settings = source.settings
    keys = {
        "CALLVAULT_MASTER_KEY": settings.master_key,
        "CALLVAULT_AUDIT_KEY": settings.audit_key,
        "CALLVAULT_AUDIT_KEYS_OLD": settings.audit_keys_old,
        "CALLVAULT_S3_ACCESS_KEY": settings.s3_access_key,
        "CALLVAULT_S3_SECRET_KEY": settings.s3_secret_key,
    }
    return keys


def assert_refused_before_writing(said: str, exit_code: int, *, data_dir: Path, database_url: str) -> None:
    assert exit_code == 1 and "Nothing was written: set them and run the restore again" in said, said
    assert "the restore stopped before it finished" not in said, said
    assert not data_dir.exists() and not (data_dir / RESTORING).exists()
    assert not holds_tables(database_url)


@pytest.mark.parametrize("lacking", ["retired_audit_key", "old_master_key"])
def test_a_no_keys_backup_restored_without_a_key_its_data_needs_is_refused_before_anything_is_written(
    source: Runtime,
    empty_database: str,
    envelope: Envelope,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lacking: str,
) -> None:
    backup, data_dir = tmp_path / "backup", tmp_path / "var"
    back_up(source, backup, monkeypatch, "--no-keys")
    monkeypatch.undo()
    lacks = environment(source)
    if lacking == "retired_audit_key":  # the key that signed the events before the rotation, left out
        del lacks["CALLVAULT_AUDIT_KEYS_OLD"]
        named = f"neither CALLVAULT_AUDIT_KEY nor CALLVAULT_AUDIT_KEYS_OLD holds audit key {key_id(AUDIT_KEY)}, which"
    else:  # the keyset without the key the first call's data key was wrapped under
        lacks["CALLVAULT_MASTER_KEY"] = only_primary(source.settings.master_key)
        held, old = source.envelope.master_key_id, envelope.master_key_id
        named = f"CALLVAULT_MASTER_KEY (key ids {held}) lacks master key id {old}, which"

    refused = callvault(source, "restore", str(backup), data_dir=data_dir, database_url=empty_database, **lacks)

    said = refused.output
    assert_refused_before_writing(said, refused.exit_code, data_dir=data_dir, database_url=empty_database)
    assert named in said and "(the environment's)" in said, said
    assert not any(key in said for key in (source.settings.master_key, AUDIT_KEY, NEW_AUDIT_KEY))

    keys = environment(source)
    restored = callvault(source, "restore", str(backup), data_dir=data_dir, database_url=empty_database, **keys)
    assert restored.exit_code == 0 and "keys from the environment" in restored.output, restored.output
    assert not (data_dir / RESTORING).exists()


def test_a_key_whose_last_call_went_while_the_dump_ran_is_still_needed(
    source: Runtime,
    empty_database: str,
    envelope: Envelope,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by review: the key ids were read after the dump only, so a key whose last call a sweep or an erasure
    took while the dump ran (its snapshot, taken as it began, holds the call) went unnamed, and the restore without
    it was refused only after copying and loading everything."""
    real_dump = archive._dump_database

    def dump_then_shred(engine: Engine, directory: Path) -> str:
        dumped = real_dump(engine, directory)
        with engine.begin() as connection:  # committed after the dump's snapshot, as a sweep's batch
            connection.execute(
                update(Recording).where(Recording.master_key_id == envelope.master_key_id).values(wrapped_data_key=b"")
            )
        return dumped

    monkeypatch.setattr(archive, "_dump_database", dump_then_shred)
    backup, data_dir = tmp_path / "backup", tmp_path / "var"
    back_up(source, backup, monkeypatch, "--no-keys")
    monkeypatch.undo()
    lacks = {**environment(source), "CALLVAULT_MASTER_KEY": only_primary(source.settings.master_key)}

    refused = callvault(source, "restore", str(backup), data_dir=data_dir, database_url=empty_database, **lacks)

    assert_refused_before_writing(refused.output, refused.exit_code, data_dir=data_dir, database_url=empty_database)
    assert f"lacks master key id {envelope.master_key_id}, which" in refused.output, refused.output


@pytest.mark.parametrize("overridden", ["master_key", "audit_key"])
def test_a_backup_with_keys_restored_where_the_environments_keys_lack_one_is_refused_before_writing(
    source: Runtime,
    empty_database: str,
    envelope: Envelope,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    overridden: str,
) -> None:
    """The environment's keys win over the backup's (a new host's settings): a restore is refused alike where they
    lack one, rather than after loading."""
    backup, data_dir = tmp_path / "backup", tmp_path / "var"
    back_up(source, backup, monkeypatch)
    monkeypatch.undo()
    if overridden == "master_key":
        env = {"CALLVAULT_MASTER_KEY": only_primary(source.settings.master_key)}
        named = f"lacks master key id {envelope.master_key_id}, which"
    else:  # another installation's audit key, in place of the trail's current one (the retired one is the backup's)
        env = {"CALLVAULT_AUDIT_KEY": secrets.token_urlsafe(32)}
        named = f"holds audit key {key_id(NEW_AUDIT_KEY)}, which"

    refused = callvault(source, "restore", str(backup), data_dir=data_dir, database_url=empty_database, **env)

    said = refused.output
    assert_refused_before_writing(said, refused.exit_code, data_dir=data_dir, database_url=empty_database)
    assert named in said and "(the backup's, with those the environment sets over them)" in said, said

    restored = callvault(source, "restore", str(backup), data_dir=data_dir, database_url=empty_database)
    assert restored.exit_code == 0, restored.output


def test_the_manifest_names_the_key_ids_the_data_needs(
    source: Runtime, envelope: Envelope, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    back_up(source, tmp_path / "backup", monkeypatch, "--no-keys")

    manifest = archive.read_manifest(tmp_path / "backup")

    master = sorted({envelope.master_key_id, source.envelope.master_key_id})
    assert manifest["needed_keys"] == {"master": master, "audit": sorted([key_id(AUDIT_KEY), key_id(NEW_AUDIT_KEY)])}
    assert not any(key in json.dumps(manifest) for key in (source.settings.master_key, AUDIT_KEY, NEW_AUDIT_KEY))
