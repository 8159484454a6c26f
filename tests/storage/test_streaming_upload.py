"""Uploading while writing, against the real SeaweedFS: what the writer wrote is what is stored, and a writer
that fails part-way leaves nothing under the key (small or multipart), with its own error raised."""

from __future__ import annotations

import hashlib
import secrets
from typing import BinaryIO

import pytest

from recordings_service.storage.object_store import S3ObjectStore
from recordings_service.storage.streaming_upload import upload_while_writing

MIB = 1024 * 1024


def test_large_stream_is_stored_whole(store: S3ObjectStore) -> None:
    key = f"exports/test-{secrets.token_hex(4)}/package.zip"
    blocks = [secrets.token_bytes(MIB) for _ in range(40)]  # above the multipart threshold: several parts

    def write(destination: BinaryIO) -> str:
        for block in blocks:
            destination.write(block)
        return "written"

    assert upload_while_writing(store, key, write) == "written"
    with store.get(key) as body:
        assert hashlib.sha256(body.read()).hexdigest() == hashlib.sha256(b"".join(blocks)).hexdigest()
    store.delete(key)


@pytest.mark.parametrize("written_mib", [0, 3, 40])
def test_failing_writer_stores_nothing(store: S3ObjectStore, written_mib: int) -> None:
    key = f"exports/test-{secrets.token_hex(4)}/package.zip"

    def write(destination: BinaryIO) -> None:
        for _ in range(written_mib):
            destination.write(secrets.token_bytes(MIB))
        raise RuntimeError("the call's audio could not be read")

    with pytest.raises(RuntimeError, match="could not be read"):
        upload_while_writing(store, key, write)
    assert list(store.list_versions(key)) == []
