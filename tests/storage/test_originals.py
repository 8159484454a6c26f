"""Storing an original, against the real SeaweedFS: encrypted in memory up to `IN_MEMORY_BYTES`, through the spool
above it; either way the store holds ciphertext that opens to the very bytes, and the spool is left empty."""

from __future__ import annotations

import io
import secrets
from pathlib import Path

import pytest

from recordings_service.config import Settings
from recordings_service.db import new_id
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from recordings_service.storage.originals import IN_MEMORY_BYTES, store_original
from recordings_service.storage.spool import spool_dir


@pytest.mark.parametrize("size", [100, IN_MEMORY_BYTES, IN_MEMORY_BYTES + 1], ids=["small", "in memory", "spooled"])
def test_original_is_stored_encrypted_and_opens_to_its_bytes(
    store: S3ObjectStore, envelope: Envelope, base_settings: Settings, tmp_path: Path, size: int
) -> None:
    audio = tmp_path / "call.wav"
    audio.write_bytes(plain := secrets.token_bytes(size))
    recording_id = new_id()
    key = f"originals/test/{recording_id}"
    spooled_before = set(spool_dir(base_settings).iterdir())

    sealed = store_original(
        store, envelope, settings=base_settings, audio_path=audio, key=key, recording_id=recording_id
    )

    try:
        assert sealed.version_id
        with store.get(key) as body:
            ciphertext = body.read()
        assert plain[:32] not in ciphertext  # 32 random bytes: not there by chance
        with envelope.decrypting_stream(
            io.BytesIO(ciphertext), wrapped=sealed.wrapped_data_key, object_id=recording_id
        ) as opened:
            assert opened.read() == plain
        assert set(spool_dir(base_settings).iterdir()) == spooled_before
    finally:
        store.delete(key)
