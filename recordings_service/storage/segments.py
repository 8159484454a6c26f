"""Random access into a stored streaming-AEAD ciphertext: a byte range fetches and decrypts only its segments.

Tink's Python streaming AEAD decrypts sequentially only (its C++ random-access stream is not bound), so
seeking to the last minute of a long call would fetch and decrypt every byte before it. The ciphertext
follows Tink's AES-GCM-HKDF streaming wire format (`aes_gcm_hkdf`); only the segment arithmetic lives here,
and the tests hold this reader to Tink's own streams.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag

from recordings_service.storage.aes_gcm_hkdf import TAG_SIZE, StreamingKey, segment_aead, segment_nonce
from recordings_service.storage.encryption import DecryptionFailed, Envelope
from recordings_service.storage.object_store import ObjectStore


class SegmentLayout:
    """Where each segment of a `ciphertext_size`-byte ciphertext lies, and which plaintext bytes it holds."""

    def __init__(self, key: StreamingKey, ciphertext_size: int) -> None:
        self.key = key
        self.ciphertext_size = ciphertext_size
        self.header_size = key.header_size
        self.plain_segment = key.segment_size - TAG_SIZE
        # Only an empty plaintext has an empty last segment; every segment carries its tag.
        self.segments = max(-(-ciphertext_size // key.segment_size), 1)
        self.plaintext_size = ciphertext_size - self.header_size - self.segments * TAG_SIZE
        last = ciphertext_size - self.ciphertext_start(self.segments - 1)
        if self.plaintext_size < 0 or last < TAG_SIZE:
            raise DecryptionFailed("ciphertext is too short for its segment layout (truncated)")

    def segment_of(self, position: int) -> int:
        """The segment holding plaintext byte `position` (the header shortens the first one)."""
        return (position + self.header_size) // self.plain_segment

    def plaintext_start(self, segment: int) -> int:
        return max(segment * self.plain_segment - self.header_size, 0)

    def ciphertext_start(self, segment: int) -> int:
        return segment * self.key.segment_size if segment else self.header_size

    def ciphertext_stop(self, segment: int) -> int:
        return min((segment + 1) * self.key.segment_size, self.ciphertext_size)


class SegmentCipher:
    """Decrypts single segments once the header's salt and nonce prefix are known."""

    def __init__(self, layout: SegmentLayout, header: bytes, associated: bytes) -> None:
        key = layout.key
        if len(header) != layout.header_size or header[0] != layout.header_size:
            raise DecryptionFailed("ciphertext header does not match the data key (tampered or wrong key)")
        salt = header[1 : 1 + key.derived_key_size]
        self._nonce_prefix = header[1 + key.derived_key_size :]
        self._aead = segment_aead(key, salt=salt, associated=associated)
        self._last = layout.segments - 1

    def decrypt(self, segment: int, ciphertext: bytes) -> bytes:
        nonce = segment_nonce(self._nonce_prefix, segment, last=segment == self._last)
        try:
            return self._aead.decrypt(nonce, ciphertext, None)
        except InvalidTag:
            raise DecryptionFailed("ciphertext failed authentication (tampered or wrong key)") from None


def stored_plaintext_range(
    store: ObjectStore,
    envelope: Envelope,
    *,
    key: str,
    wrapped: bytes,
    object_id: str,
    start: int,
    stop: int,
) -> Iterator[bytes]:
    """Plaintext bytes `start` (inclusive) to `stop` (exclusive) of the object at `key` encrypted for
    `object_id`, a segment at a time; only the header and the segments the range covers are fetched.

    The key is unwrapped and the object found before this returns (`DecryptionFailed`, `NotFound`): an answer
    streaming the bytes is refused before it starts, not broken off after its headers went out."""
    layout = SegmentLayout(envelope.streaming_key(wrapped, object_id=object_id), store.head(key).size)
    return _segments(store, layout, key=key, object_id=object_id, start=start, stop=min(stop, layout.plaintext_size))


def _segments(
    store: ObjectStore, layout: SegmentLayout, *, key: str, object_id: str, start: int, stop: int
) -> Iterator[bytes]:
    if start >= stop:
        return
    first, last = layout.segment_of(start), layout.segment_of(stop - 1)
    header = b"" if first == 0 else store.get_range(key, 0, layout.header_size - 1)
    with store.open_range(
        key, layout.ciphertext_start(first) if first else 0, layout.ciphertext_stop(last) - 1
    ) as body:
        if first == 0:
            header = _read_exactly(body, layout.header_size)
        cipher = SegmentCipher(layout, header, object_id.encode())
        for segment in range(first, last + 1):
            sealed = _read_exactly(body, layout.ciphertext_stop(segment) - layout.ciphertext_start(segment))
            offset = layout.plaintext_start(segment)
            yield cipher.decrypt(segment, sealed)[max(start - offset, 0) : stop - offset]


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    chunks = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            raise DecryptionFailed("ciphertext ended before its last segment (truncated)")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
