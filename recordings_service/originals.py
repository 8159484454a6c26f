"""Reading a recording's stored original: decrypted as a stream, by byte range, into a file, or hashed."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from recordings_service.errors import NotFound
from recordings_service.models import Recording
from recordings_service.storage.encryption import CHUNK, DecryptionFailed, Envelope, PlaintextReader
from recordings_service.storage.object_store import ObjectStore
from recordings_service.storage.segments import stored_plaintext_range


def open_original(store: ObjectStore, envelope: Envelope, recording: Recording) -> PlaintextReader:
    """The original's plaintext as a stream, authenticated segment by segment while it is read."""
    return envelope.decrypting_stream(
        store.get(recording.storage_key), wrapped=recording.wrapped_data_key, object_id=recording.id
    )


def original_bytes(
    store: ObjectStore, envelope: Envelope, recording: Recording, *, start: int, stop: int
) -> Iterator[bytes]:
    """Plaintext bytes `start` (inclusive) to `stop` (exclusive) of the original, fetching only the
    segments that cover them (a seek deep into a long call does not decrypt from byte 0). `NotFound` before the
    first byte when the store no longer holds it (a database restored beside a store it outlived, say)."""
    try:
        return stored_plaintext_range(
            store,
            envelope,
            key=recording.storage_key,
            wrapped=recording.wrapped_data_key,
            object_id=recording.id,
            start=start,
            stop=stop,
        )
    except NotFound:
        message = f"the audio of recording {recording.id} is missing from the object store (see `integrity check`)"
        raise NotFound(message, why="audio_missing") from None


def decrypt_original_to(store: ObjectStore, envelope: Envelope, *, recording: Recording, path: Path) -> str:
    """Decrypt the original into `path` and return its SHA-256; empty when it fails authentication."""
    try:
        with path.open("wb") as out:
            return original_sha256(store, envelope, recording, copy_to=out)
    except DecryptionFailed:
        return ""


def original_sha256(
    store: ObjectStore, envelope: Envelope, recording: Recording, *, copy_to: BinaryIO | None = None
) -> str:
    """Decrypt and hash the stored original (integrity checks compare it with `recording.sha256`), and write it to
    `copy_to` where given."""
    digest = hashlib.sha256()
    with open_original(store, envelope, recording) as plaintext:
        while chunk := plaintext.read(CHUNK):
            digest.update(chunk)
            if copy_to is not None:
                copy_to.write(chunk)
    return digest.hexdigest()
