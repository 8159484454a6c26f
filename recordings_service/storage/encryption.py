"""Envelope encryption of originals with Google Tink keysets.

Each recording gets its own streaming-AEAD data key (AES256-GCM-HKDF, 1 MiB segments: written in Tink's format by
`aes_gcm_hkdf`, read by Tink's streams); the data key is wrapped by the master AEAD keyset from the settings. The
master keyset may hold several keys: the primary wraps new data keys, the others still unwrap old ones, so the
master key rotates without re-encrypting recordings. Destroying a wrapped data key makes every copy of that
recording unreadable.
"""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import tink
from tink import aead, secret_key_access, streaming_aead
from tink.proto import aes_gcm_hkdf_streaming_pb2, tink_pb2

from recordings_service.config import SettingsError
from recordings_service.errors import DomainError
from recordings_service.storage.aes_gcm_hkdf import EncryptingWriter, StreamingKey

aead.register()
streaming_aead.register()

CHUNK = 1024 * 1024
_STREAMING_KEY_TYPE = "type.googleapis.com/google.crypto.tink.AesGcmHkdfStreamingKey"


class DecryptionFailed(DomainError):
    code = "decryption_failed"


@dataclass(frozen=True)
class WrappedKey:
    wrapped: bytes
    master_key_id: int


def generate_master_key() -> str:
    """A new master keyset, base64-encoded JSON, for `CALLVAULT_MASTER_KEY`."""
    handle = tink.new_keyset_handle(aead.aead_key_templates.AES256_GCM)
    return base64.b64encode(tink.json_proto_keyset_format.serialize(handle, secret_key_access.TOKEN).encode()).decode()


class Envelope:
    """Encrypts and decrypts object streams under per-object data keys wrapped by the master keyset."""

    def __init__(self, master_key: str) -> None:
        if not master_key:
            raise SettingsError("CALLVAULT_MASTER_KEY is not set")
        try:
            keyset = base64.b64decode(master_key, validate=True).decode()
            handle = tink.json_proto_keyset_format.parse(keyset, secret_key_access.TOKEN)
            self._master = handle.primitive(aead.Aead)
        except (ValueError, tink.TinkError) as exc:
            raise SettingsError("CALLVAULT_MASTER_KEY is not a valid base64 Tink AEAD keyset") from exc
        self.master_key_id = handle.keyset_info().primary_key_id
        # The keys this keyset can unwrap with: a rotation adds a primary and keeps the others.
        enabled = [info for info in handle.keyset_info().key_info if info.status == tink_pb2.ENABLED]
        self.key_ids = frozenset(info.key_id for info in enabled)
        # A key without Tink's prefix leaves no id in what it seals, and its ciphertext's first bytes are random.
        self.seals_name_keys = all(info.output_prefix_type == tink_pb2.TINK for info in enabled)

    def new_data_key(self, object_id: str) -> tuple[WrappedKey, StreamingKey]:
        """A fresh data key bound to `object_id`, wrapped for storage beside the object's row."""
        handle = tink.new_keyset_handle(streaming_aead.streaming_aead_key_templates.AES256_GCM_HKDF_1MB)
        wrapped = tink.proto_keyset_format.serialize_encrypted(handle, self._master, object_id.encode())
        return WrappedKey(wrapped, self.master_key_id), _streaming_key(handle)

    def encrypt(self, source: BinaryIO, destination: BinaryIO, *, object_id: str) -> WrappedKey:
        """Encrypt `source` into `destination` (closed at the end) under a new data key."""
        wrapped, key = self.new_data_key(object_id)
        with EncryptingWriter(key, destination, object_id.encode()) as encrypting:
            shutil.copyfileobj(source, encrypting, CHUNK)
        return wrapped

    def encrypt_derived(
        self, source: BinaryIO, destination: BinaryIO, *, wrapped: bytes, object_id: str, derived_id: str
    ) -> None:
        """Encrypt a derivative of `object_id` under that object's own data key, bound to `derived_id`.

        Destroying the object's wrapped key then makes its derivatives unreadable too (crypto-shredding).
        """
        key = self.streaming_key(wrapped, object_id=object_id)
        with EncryptingWriter(key, destination, derived_id.encode()) as encrypting:
            shutil.copyfileobj(source, encrypting, CHUNK)

    def seal_secret(self, secret: bytes, *, object_id: str) -> WrappedKey:
        """A small secret (an HMAC key) encrypted by the master key, bound to `object_id`."""
        return WrappedKey(self._master.encrypt(secret, object_id.encode()), self.master_key_id)

    def rewrap_data_key(self, wrapped: bytes, *, object_id: str) -> WrappedKey:
        """A data key wrapped under the primary master key: the key, and what it encrypted, stay as they were."""
        handle = self._data_key_handle(wrapped, object_id)
        return WrappedKey(
            tink.proto_keyset_format.serialize_encrypted(handle, self._master, object_id.encode()), self.master_key_id
        )

    def reseal_secret(self, sealed: bytes, *, object_id: str) -> WrappedKey:
        """A sealed secret sealed again under the primary master key, bound to the same `object_id`."""
        return self.seal_secret(self.open_secret(sealed, object_id=object_id), object_id=object_id)

    def sealed_under(self, sealed: bytes) -> int | None:
        """The id of the master key a secret was sealed under, read from Tink's output prefix (a version byte 1 and
        the key id); None when this keyset's seals do not name their key."""
        if not self.seals_name_keys or len(sealed) < 5 or sealed[0] != 1:
            return None
        return int.from_bytes(sealed[1:5], "big")

    def lacks_key_of(self, sealed: bytes) -> bool:
        """Whether a secret was sealed under a master key this keyset does not hold (one removed, or lost); False
        where the seal names no key."""
        key_id = self.sealed_under(sealed)
        return key_id is not None and key_id not in self.key_ids

    def open_secret(self, sealed: bytes, *, object_id: str) -> bytes:
        try:
            secret: bytes = self._master.decrypt(sealed, object_id.encode())
        except tink.TinkError:
            raise DecryptionFailed("the secret cannot be unwrapped with the configured master key") from None
        return secret

    def decrypting_stream(
        self, ciphertext: BinaryIO, *, wrapped: bytes, object_id: str, derived_id: str | None = None
    ) -> PlaintextReader:
        """A readable stream of plaintext (of a derivative, with `derived_id`); tampering raises `DecryptionFailed`."""
        primitive = self._data_key(wrapped, object_id)
        associated = derived_id if derived_id is not None else object_id
        return PlaintextReader(primitive.new_decrypting_stream(ciphertext, associated.encode()))

    def streaming_key(self, wrapped: bytes, *, object_id: str) -> StreamingKey:
        """The unwrapped data key of `object_id` as raw key material (its keyset holds exactly one key)."""
        return _streaming_key(self._data_key_handle(wrapped, object_id))

    def _data_key(self, wrapped: bytes, object_id: str) -> streaming_aead.StreamingAead:
        handle = self._data_key_handle(wrapped, object_id)
        primitive: streaming_aead.StreamingAead = handle.primitive(streaming_aead.StreamingAead)
        return primitive

    def _data_key_handle(self, wrapped: bytes, object_id: str) -> tink.KeysetHandle:
        try:
            return tink.proto_keyset_format.parse_encrypted(wrapped, self._master, object_id.encode())
        except tink.TinkError:
            raise DecryptionFailed("the data key cannot be unwrapped with the configured master key") from None


def _streaming_key(handle: tink.KeysetHandle) -> StreamingKey:
    keyset = tink_pb2.Keyset.FromString(tink.proto_keyset_format.serialize(handle, secret_key_access.TOKEN))
    key = keyset.key[0]
    if len(keyset.key) != 1 or key.key_data.type_url != _STREAMING_KEY_TYPE:
        raise DecryptionFailed("the data key is not a single AES-GCM-HKDF streaming key")
    parsed = aes_gcm_hkdf_streaming_pb2.AesGcmHkdfStreamingKey.FromString(key.key_data.value)
    return StreamingKey(
        key_value=parsed.key_value,
        derived_key_size=parsed.params.derived_key_size,
        hkdf_hash=parsed.params.hkdf_hash_type,
        segment_size=parsed.params.ciphertext_segment_size,
    )


class PlaintextReader:
    """Turns Tink's authentication failures into a domain error, so callers never see garbage."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        try:
            return self._stream.read(size)
        except tink.TinkError:
            raise DecryptionFailed("ciphertext failed authentication (tampered or wrong key)") from None

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> PlaintextReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def plaintext_range(plaintext: PlaintextReader, *, start: int, stop: int) -> Iterator[bytes]:
    """Bytes `start` (inclusive) to `stop` (exclusive) of a decrypting stream, in chunks.

    A range is reached by decrypting and dropping what precedes it; `storage.segments` reads a stored
    object's range without that.
    """
    position = 0
    while position < stop:
        chunk = plaintext.read(CHUNK)
        if not chunk:
            break
        end = position + len(chunk)
        if end > start:
            yield chunk[max(start - position, 0) : min(stop, end) - position]
        position = end
