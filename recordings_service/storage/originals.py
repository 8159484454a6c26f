"""Putting an original: encrypted under a new data key bound to its recording, then uploaded."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from recordings_service.config import Settings
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from recordings_service.storage.spool import spool_dir


@dataclass(frozen=True)
class SealedOriginal:
    """What the recording row keeps of a stored original: its wrapped data key and the store's version."""

    wrapped_data_key: bytes
    master_key_id: int
    version_id: str | None


def store_original(
    store: ObjectStore, envelope: Envelope, *, settings: Settings, audio_path: Path, key: str, recording_id: str
) -> SealedOriginal:
    """Encrypt to a temporary file in the spool (Tink writes a stream, S3 wants a length), then upload it."""
    fd, name = tempfile.mkstemp(prefix="sealed-", dir=spool_dir(settings))
    sealed = Path(name)
    try:
        with audio_path.open("rb") as source, os.fdopen(fd, "wb") as destination:
            wrapped = envelope.encrypt(source, destination, object_id=recording_id)
        with sealed.open("rb") as ciphertext:
            stored = store.put(key, ciphertext)
    finally:
        sealed.unlink(missing_ok=True)
    return SealedOriginal(
        wrapped_data_key=wrapped.wrapped, master_key_id=wrapped.master_key_id, version_id=stored.version_id
    )
