"""Fixtures shared by the backup tests."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from recordings_service.config import Settings
from recordings_service.storage.object_store import S3ObjectStore, make_client


@pytest.fixture
def bucket(base_settings: Settings) -> Iterator[S3ObjectStore]:
    """A bucket of its own (a backup lists every object of the bucket), emptied afterwards."""
    own = S3ObjectStore(make_client(base_settings), "backup-" + secrets.token_hex(4))
    own.ensure_bucket()
    yield own
    for info in own.list(""):
        own.delete(info.key)
