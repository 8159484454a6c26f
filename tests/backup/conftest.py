"""Fixtures shared by the backup tests."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from recordings_service.config import Settings
from recordings_service.db import make_engine
from recordings_service.storage.object_store import S3ObjectStore, make_client
from tests.conftest import postgres_url_or_skip


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
