"""`callvault backup --no-objects` lists the store's objects without reading them."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Engine

from recordings_service.backup import archive
from recordings_service.config import Settings
from recordings_service.storage.object_store import S3ObjectStore, make_client

SIZES = {"derived/probe/small": 10, "originals/probe/large": 5000}


class _CountingGets(S3ObjectStore):
    """The bucket, counting the objects read from it."""

    gets = 0

    def get(self, key: str) -> BinaryIO:
        self.gets += 1
        return super().get(key)


def test_a_backup_without_objects_lists_key_version_and_size_without_reading_any(
    settings: Settings, engine: Engine, bucket: S3ObjectStore, tmp_path: Path
) -> None:
    for key, size in SIZES.items():
        bucket.put(key, io.BytesIO(b"x" * size))
    counting = _CountingGets(make_client(settings), bucket.bucket)
    own = replace(settings, s3_bucket=bucket.bucket)

    summary = archive.write_backup(own, engine, counting, directory=tmp_path / "backup", objects=False)

    assert counting.gets == 0
    assert (summary.objects, summary.object_bytes) == (2, sum(SIZES.values()))
    manifest = archive.read_manifest(tmp_path / "backup")
    assert {entry["key"]: entry["size"] for entry in manifest["objects"]} == SIZES
    assert all(entry["version_id"] and entry["sha256"] is None for entry in manifest["objects"])
