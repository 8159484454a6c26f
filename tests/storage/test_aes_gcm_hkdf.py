"""The AES-GCM-HKDF streaming writer against Tink itself: Tink's streams decrypt what it writes, at every
segment boundary and however the plaintext is handed to it, its ciphertext is as long as Tink's own, and a write
cut short by an error leaves a ciphertext Tink refuses."""

from __future__ import annotations

import io
import os

import pytest
import tink

from recordings_service.storage.aes_gcm_hkdf import EncryptingWriter
from recordings_service.storage.encryption import DecryptionFailed, Envelope, generate_master_key

SEGMENT = 1024 * 1024
HEADER = 40  # AES256-GCM-HKDF: length byte, 32-byte salt, 7-byte nonce prefix
FIRST_PLAIN = SEGMENT - 16 - HEADER
PLAIN = SEGMENT - 16
SIZES = [0, 1, FIRST_PLAIN - 1, FIRST_PLAIN, FIRST_PLAIN + 1, FIRST_PLAIN + PLAIN, FIRST_PLAIN + PLAIN + 1]


class Kept(io.BytesIO):
    """A destination that keeps its bytes readable after the writer closes it."""

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def envelope() -> Envelope:
    return Envelope(generate_master_key())


def tink_decrypts(envelope: Envelope, ciphertext: bytes, wrapped: bytes, object_id: str) -> bytes:
    with envelope.decrypting_stream(io.BytesIO(ciphertext), wrapped=wrapped, object_id=object_id) as plain:
        return plain.read()


def tink_ciphertext_size(envelope: Envelope, wrapped: bytes, object_id: str, plaintext: bytes) -> int:
    primitive = envelope._data_key(wrapped, object_id)
    destination = Kept()
    with primitive.new_encrypting_stream(destination, object_id.encode()) as encrypting:
        encrypting.write(plaintext)
    return len(destination.getvalue())


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("piece", [1 << 20, 4096, 7])
def test_tink_decrypts_what_the_writer_wrote(envelope: Envelope, size: int, piece: int) -> None:
    plaintext = os.urandom(size)
    wrapped, key = envelope.new_data_key("rec-1")
    destination = Kept()
    with EncryptingWriter(key, destination, b"rec-1") as writer:
        for start in range(0, size, piece):
            writer.write(plaintext[start : start + piece])
    ciphertext = destination.getvalue()
    assert tink_decrypts(envelope, ciphertext, wrapped.wrapped, "rec-1") == plaintext
    assert len(ciphertext) == tink_ciphertext_size(envelope, wrapped.wrapped, "rec-1", plaintext)


def test_envelope_encrypt_and_encrypt_derived_are_tinks_format(envelope: Envelope) -> None:
    plaintext = os.urandom(3 * SEGMENT + 5)
    ciphertext = Kept()
    wrapped = envelope.encrypt(io.BytesIO(plaintext), ciphertext, object_id="rec-2")
    assert tink_decrypts(envelope, ciphertext.getvalue(), wrapped.wrapped, "rec-2") == plaintext
    derived = Kept()
    envelope.encrypt_derived(io.BytesIO(b"peaks"), derived, wrapped=wrapped.wrapped, object_id="rec-2", derived_id="p")
    primitive = envelope._data_key(wrapped.wrapped, "rec-2")
    with primitive.new_decrypting_stream(io.BytesIO(derived.getvalue()), b"p") as plain:
        assert plain.read() == b"peaks"


def test_an_error_while_writing_leaves_a_ciphertext_tink_refuses(envelope: Envelope) -> None:
    wrapped, key = envelope.new_data_key("rec-3")
    destination = Kept()
    with pytest.raises(OSError), EncryptingWriter(key, destination, b"rec-3") as writer:
        writer.write(os.urandom(2 * SEGMENT))
        raise OSError("the upload broke off")
    # Two segments sealed (neither as the last), the 72 bytes beyond them never written.
    assert len(destination.getvalue()) == 2 * SEGMENT
    with pytest.raises(DecryptionFailed):
        tink_decrypts(envelope, destination.getvalue(), wrapped.wrapped, "rec-3")


def test_the_associated_data_binds_the_ciphertext(envelope: Envelope) -> None:
    wrapped, key = envelope.new_data_key("rec-4")
    destination = Kept()
    with EncryptingWriter(key, destination, b"rec-4") as writer:
        writer.write(b"call audio")
    primitive = envelope._data_key(wrapped.wrapped, "rec-4")
    with pytest.raises(tink.TinkError), primitive.new_decrypting_stream(io.BytesIO(destination.getvalue()), b"x") as s:
        s.read()
