"""Random access into stored originals: a range fetches and decrypts only its segments, byte-exact against
Tink's own streams, and tampering, truncation, reordering or a wrong key are still refused."""

from __future__ import annotations

import io
import os
import random
from collections.abc import Iterator
from typing import BinaryIO

import pytest

from recordings_service.db import new_id
from recordings_service.models import Recording
from recordings_service.originals import original_bytes
from recordings_service.storage.encryption import DecryptionFailed, Envelope
from recordings_service.storage.object_store import ObjectInfo, S3ObjectStore
from recordings_service.storage.segments import stored_plaintext_range

SEGMENT = 1024 * 1024
HEADER = 40  # AES256-GCM-HKDF: length byte, 32-byte salt, 7-byte nonce prefix
PLAIN_SEGMENT = SEGMENT - 16
FIRST_PLAIN_SEGMENT = PLAIN_SEGMENT - HEADER
LARGE = 64 * 1024 * 1024 + 12345
PREFIX = "test-segments/"


class CountingStore:
    """The real store, counting the bytes the caller reads from it (what a range costs the network)."""

    def __init__(self, store: S3ObjectStore) -> None:
        self._store = store
        self.bytes_read = 0

    def head(self, key: str) -> ObjectInfo:
        return self._store.head(key)

    def get(self, key: str) -> BinaryIO:
        return self._counted(self._store.get(key))

    def get_range(self, key: str, start: int, end: int) -> bytes:
        data = self._store.get_range(key, start, end)
        self.bytes_read += len(data)
        return data

    def open_range(self, key: str, start: int, end: int) -> BinaryIO:
        return self._counted(self._store.open_range(key, start, end))

    def _counted(self, body: BinaryIO) -> BinaryIO:
        counter = self

        class Counted(io.RawIOBase):
            def read(self, size: int = -1) -> bytes:
                data = body.read(size)
                counter.bytes_read += len(data)
                return data

            def close(self) -> None:
                body.close()
                super().close()

        return Counted()  # type: ignore[return-value]


def seal(envelope: Envelope, data: bytes, object_id: str) -> tuple[bytes, bytes]:
    sink = io.BytesIO()
    sink.close = lambda: None  # type: ignore[method-assign]  # Tink closes its output; keep the bytes
    wrapped = envelope.encrypt(io.BytesIO(data), sink, object_id=object_id)
    return sink.getvalue(), wrapped.wrapped


def stored(store: S3ObjectStore, envelope: Envelope, data: bytes, *, ciphertext: bytes | None = None) -> Recording:
    """A recording row (not persisted: the read needs only its key and wrapped data key) and its object."""
    object_id = new_id()
    sealed, wrapped = seal(envelope, data, object_id)
    key = PREFIX + object_id
    store.put(key, io.BytesIO(sealed if ciphertext is None else ciphertext))
    return Recording(id=object_id, storage_key=key, wrapped_data_key=wrapped, size_bytes=len(data))


def read(store: object, envelope: Envelope, recording: Recording, start: int, stop: int) -> bytes:
    return b"".join(original_bytes(store, envelope, recording, start=start, stop=stop))  # type: ignore[arg-type]


@pytest.fixture(scope="module", autouse=True)
def cleanup(store: S3ObjectStore) -> Iterator[None]:
    yield
    store.delete_versions((version.key, version.version_id) for version in store.list_versions(PREFIX))


@pytest.fixture(scope="module")
def large(store: S3ObjectStore, envelope: Envelope) -> tuple[bytes, Recording]:
    data = os.urandom(LARGE)
    recording = stored(store, envelope, data)
    return data, recording


def test_a_seek_near_the_end_of_a_long_call_fetches_only_the_segments_it_needs(
    store: S3ObjectStore, envelope: Envelope, large: tuple[bytes, Recording]
) -> None:
    data, recording = large
    counting = CountingStore(store)
    start, stop = LARGE - 3_000_000, LARGE - 2_500_000
    assert read(counting, envelope, recording, start, stop) == data[start:stop]
    # At most one segment beyond each end of the range, plus the 40-byte header.
    assert counting.bytes_read <= (stop - start) + 2 * SEGMENT + HEADER, counting.bytes_read
    assert counting.bytes_read >= stop - start


def test_a_tail_range_reads_the_tail_only(
    store: S3ObjectStore, envelope: Envelope, large: tuple[bytes, Recording]
) -> None:
    data, recording = large
    counting = CountingStore(store)
    assert read(counting, envelope, recording, LARGE - 5000, LARGE + 10) == data[-5000:]
    assert counting.bytes_read <= 5000 + SEGMENT + HEADER


def test_random_ranges_equal_the_plaintext_slice(
    store: S3ObjectStore, envelope: Envelope, large: tuple[bytes, Recording]
) -> None:
    data, recording = large
    boundaries = [0, FIRST_PLAIN_SEGMENT, *(FIRST_PLAIN_SEGMENT + k * PLAIN_SEGMENT for k in (1, 2, 30, 63)), LARGE]
    ranges = [(0, 1), (0, FIRST_PLAIN_SEGMENT), (LARGE - 1, LARGE), (LARGE - PLAIN_SEGMENT, LARGE)]
    for edge in boundaries[1:-1]:
        ranges += [(edge - 1, edge), (edge, edge + 1), (edge - 1, edge + 1), (edge, edge + PLAIN_SEGMENT)]
    rng = random.Random(14)
    for _ in range(25):
        start = rng.randrange(LARGE)
        ranges.append((start, min(start + rng.randrange(1, 3 * SEGMENT), LARGE)))
    for start, stop in ranges:
        assert read(store, envelope, recording, start, stop) == data[start:stop], (start, stop)


@pytest.mark.parametrize(
    "size",
    [0, 1, FIRST_PLAIN_SEGMENT - 1, FIRST_PLAIN_SEGMENT, FIRST_PLAIN_SEGMENT + 1, FIRST_PLAIN_SEGMENT + PLAIN_SEGMENT],
)
def test_sizes_at_segment_boundaries_read_whole_and_in_part(
    store: S3ObjectStore, envelope: Envelope, size: int
) -> None:
    data = os.urandom(size)
    recording = stored(store, envelope, data)
    assert read(store, envelope, recording, 0, size + 1) == data
    assert read(store, envelope, recording, size // 2, size) == data[size // 2 :]
    assert read(store, envelope, recording, size, size + 5) == b""


def test_agrees_with_tinks_own_decryption(envelope: Envelope, store: S3ObjectStore) -> None:
    data = os.urandom(3 * SEGMENT)
    recording = stored(store, envelope, data)
    with envelope.decrypting_stream(
        store.get(recording.storage_key), wrapped=recording.wrapped_data_key, object_id=recording.id
    ) as plain:
        assert plain.read() == data == read(store, envelope, recording, 0, len(data))


def test_a_tampered_segment_is_refused(store: S3ObjectStore, envelope: Envelope) -> None:
    data = os.urandom(3 * SEGMENT)
    object_id = new_id()
    sealed, wrapped = seal(envelope, data, object_id)
    tampered = bytearray(sealed)
    tampered[2 * SEGMENT + 100] ^= 1
    key = PREFIX + object_id
    store.put(key, io.BytesIO(bytes(tampered)))
    recording = Recording(id=object_id, storage_key=key, wrapped_data_key=wrapped)
    assert read(store, envelope, recording, 10, 20) == data[10:20]  # an untouched segment still reads
    with pytest.raises(DecryptionFailed):
        read(store, envelope, recording, 2 * SEGMENT, 2 * SEGMENT + 10)


def test_swapped_segments_are_refused(store: S3ObjectStore, envelope: Envelope) -> None:
    data = os.urandom(4 * SEGMENT)
    object_id = new_id()
    sealed, wrapped = seal(envelope, data, object_id)
    one, two = sealed[SEGMENT : 2 * SEGMENT], sealed[2 * SEGMENT : 3 * SEGMENT]
    key = PREFIX + object_id
    store.put(key, io.BytesIO(sealed[:SEGMENT] + two + one + sealed[3 * SEGMENT :]))
    recording = Recording(id=object_id, storage_key=key, wrapped_data_key=wrapped)
    with pytest.raises(DecryptionFailed):
        read(store, envelope, recording, SEGMENT + 10, SEGMENT + 20)


@pytest.mark.parametrize("cut", [1, 17, SEGMENT])
def test_a_truncated_object_is_refused_at_its_end(store: S3ObjectStore, envelope: Envelope, cut: int) -> None:
    data = os.urandom(3 * SEGMENT)
    object_id = new_id()
    sealed, wrapped = seal(envelope, data, object_id)
    key = PREFIX + object_id
    store.put(key, io.BytesIO(sealed[:-cut]))
    recording = Recording(id=object_id, storage_key=key, wrapped_data_key=wrapped)
    with pytest.raises(DecryptionFailed):
        read(store, envelope, recording, 0, len(data))


def test_another_objects_key_or_identity_is_refused(store: S3ObjectStore, envelope: Envelope) -> None:
    data = os.urandom(SEGMENT)
    recording = stored(store, envelope, data)
    other = stored(store, envelope, data)
    for wrapped, object_id in [(other.wrapped_data_key, other.id), (recording.wrapped_data_key, other.id)]:
        with pytest.raises(DecryptionFailed):
            b"".join(
                stored_plaintext_range(
                    store, envelope, key=recording.storage_key, wrapped=wrapped, object_id=object_id, start=0, stop=10
                )
            )
