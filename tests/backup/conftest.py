"""Fixtures shared by the backup tests."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from recordings_service import schema
from recordings_service.audit_anchors import ANCHOR_PREFIX
from recordings_service.config import Settings
from recordings_service.db import make_engine, make_sessionmaker
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore, make_client
from tests.conftest import postgres_url_or_skip
from tests.factories.audit import AUDIT_KEY
from web import cli, cli_support


@pytest.fixture
def bucket(base_settings: Settings) -> Iterator[S3ObjectStore]:
    """A bucket of its own (a backup lists every object of the bucket), emptied afterwards."""
    own = S3ObjectStore(make_client(base_settings), "backup-" + secrets.token_hex(4))
    own.ensure_bucket()
    yield own
    for info in own.list(""):
        own.delete(info.key)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database without tables: a new SQLite file, or a new PostgreSQL schema (dropped after)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    admin_url = postgres_url_or_skip()
    name = "bk_load_" + secrets.token_hex(6)
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {name}"))
    separator = "&" if "?" in admin_url else "?"
    yield f"{admin_url}{separator}options=-csearch_path%3D{name}"
    with admin.connect() as connection:
        connection.execute(text(f"DROP SCHEMA {name} CASCADE"))
    admin.dispose()


@pytest.fixture
def sqlite_source(base_settings: Settings, envelope: Envelope, tmp_path: Path) -> Iterator[Runtime]:
    """A SQLite database with a signed trail, and a bucket of its own (an external store, which outlives the
    database)."""
    bucket = S3ObjectStore(make_client(base_settings), "restore-" + secrets.token_hex(4))
    bucket.ensure_bucket()
    url = f"sqlite:///{tmp_path / 'source.db'}"
    engine = make_engine(url)
    schema.upgrade(engine)
    # A signed trail, as every installation's: a restore must keep signing it with its key.
    own = {"database_url": url, "s3_bucket": bucket.bucket, "audit_key": AUDIT_KEY}
    settings = Settings(**{**base_settings.__dict__, **own})
    yield Runtime(settings=settings, engine=engine, sessions=make_sessionmaker(engine), store=bucket, envelope=envelope)
    engine.dispose()
    for info in bucket.list(""):
        if not info.key.startswith(ANCHOR_PREFIX):  # kept in Object Lock, like every anchor (the test store's)
            bucket.delete(info.key)


def callvault(runtime: Runtime, *args: str, data_dir: Path, database_url: str, **env_extra: str) -> Result:
    """`callvault ARGS` on a data directory and database of its own, with the runtime's store as an external one."""
    env = {
        "CALLVAULT_DATA_DIR": str(data_dir),
        "CALLVAULT_DATABASE_URL": database_url,
        "CALLVAULT_S3_ENDPOINT": runtime.settings.s3_endpoint,
        "CALLVAULT_S3_BUCKET": runtime.settings.s3_bucket,
        **env_extra,
    }
    return CliRunner().invoke(cli.main, list(args), env=env)


def back_up(source: Runtime, directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`callvault backup --no-objects DIRECTORY` of the source, whose store is an external one that keeps the
    objects (the test's other patches are undone too)."""
    monkeypatch.setattr(cli_support, "load_runtime", lambda **_checks: source)
    env = {"CALLVAULT_S3_ENDPOINT": source.settings.s3_endpoint}
    made = CliRunner().invoke(cli.main, ["backup", "--no-objects", str(directory)], env=env)
    monkeypatch.undo()
    assert made.exit_code == 0, made.output


@dataclass(frozen=True)
class SqliteTarget:
    """Where a test restores the source's backup: `var/` under `root`, a SQLite file there, the source's store."""

    source: Runtime
    root: Path

    @property
    def url(self) -> str:
        return f"sqlite:///{self.root / 'var' / 'callvault.db'}"

    def callvault(self, *args: str) -> Result:
        return callvault(self.source, *args, data_dir=self.root / "var", database_url=self.url)

    def runtime(self) -> Runtime:
        settings = Settings.from_env({"CALLVAULT_DATA_DIR": str(self.root / "var"), "CALLVAULT_DATABASE_URL": self.url})
        return Runtime.from_settings(settings, store=self.source.store)


def as_an_earlier_release_wrote_it(backup: Path) -> None:
    """Take out of the backup's manifest the key ids its data needs, which earlier releases did not record: its
    restore is then checked against the keys only after loading, as before."""
    path = backup / "manifest.json"
    manifest = json.loads(path.read_text())
    assert manifest.pop("needed_keys")["audit"]  # written by this release, naming at least the trail's key
    path.write_text(json.dumps(manifest))
