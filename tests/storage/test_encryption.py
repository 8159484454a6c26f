"""Envelope encryption: round trips, streaming, tamper and wrong-key detection, master-key rotation."""

from __future__ import annotations

import base64
import io
import json
import os
import resource

import pytest

from recordings_service.storage.encryption import DecryptionFailed, Envelope, generate_master_key


def encrypt_bytes(envelope: Envelope, data: bytes, object_id: str, tmp_path) -> tuple[bytes, bytes]:
    path = tmp_path / f"{object_id}.enc"
    wrapped = envelope.encrypt(io.BytesIO(data), path.open("wb"), object_id=object_id)
    return path.read_bytes(), wrapped.wrapped


def test_round_trip_and_ciphertext_differs(tmp_path) -> None:
    envelope = Envelope(generate_master_key())
    data = os.urandom(2 * 1024 * 1024 + 3)
    ciphertext, wrapped = encrypt_bytes(envelope, data, "rec-1", tmp_path)
    assert data not in ciphertext
    with envelope.decrypting_stream(io.BytesIO(ciphertext), wrapped=wrapped, object_id="rec-1") as plain:
        assert plain.read() == data


def test_each_object_gets_its_own_data_key(tmp_path) -> None:
    envelope = Envelope(generate_master_key())
    first, wrapped_first = encrypt_bytes(envelope, b"same bytes", "a", tmp_path)
    second, wrapped_second = encrypt_bytes(envelope, b"same bytes", "b", tmp_path)
    assert first != second
    assert wrapped_first != wrapped_second


@pytest.mark.parametrize("position", [0, 100, 1024 * 1024 + 50, -5])
def test_tampered_ciphertext_raises_instead_of_returning_garbage(tmp_path, position: int) -> None:
    envelope = Envelope(generate_master_key())
    data = os.urandom(1024 * 1024 + 1000)
    ciphertext, wrapped = encrypt_bytes(envelope, data, "rec-t", tmp_path)
    tampered = bytearray(ciphertext)
    tampered[position] ^= 0x01
    with pytest.raises(DecryptionFailed):
        envelope.decrypting_stream(io.BytesIO(bytes(tampered)), wrapped=wrapped, object_id="rec-t").read()


def test_truncated_ciphertext_raises(tmp_path) -> None:
    envelope = Envelope(generate_master_key())
    ciphertext, wrapped = encrypt_bytes(envelope, os.urandom(3 * 1024 * 1024), "rec-c", tmp_path)
    cut = ciphertext[: len(ciphertext) // 2]
    with pytest.raises(DecryptionFailed):
        envelope.decrypting_stream(io.BytesIO(cut), wrapped=wrapped, object_id="rec-c").read()


def test_wrong_master_key_or_object_id_raises(tmp_path) -> None:
    envelope = Envelope(generate_master_key())
    ciphertext, wrapped = encrypt_bytes(envelope, b"call audio", "rec-w", tmp_path)
    with pytest.raises(DecryptionFailed):
        Envelope(generate_master_key()).decrypting_stream(io.BytesIO(ciphertext), wrapped=wrapped, object_id="rec-w")
    with pytest.raises(DecryptionFailed):
        envelope.decrypting_stream(io.BytesIO(ciphertext), wrapped=wrapped, object_id="another-recording")


def test_rotated_master_keyset_still_opens_old_recordings(tmp_path) -> None:
    old_key = generate_master_key()
    old = Envelope(old_key)
    ciphertext, wrapped = encrypt_bytes(old, b"recorded before rotation", "rec-r", tmp_path)
    # Rotation: the new keyset holds the old key plus a new primary.
    old_keyset = json.loads(base64.b64decode(old_key))
    new_keyset = json.loads(base64.b64decode(generate_master_key()))
    rotated_keyset = {"primaryKeyId": new_keyset["primaryKeyId"], "key": old_keyset["key"] + new_keyset["key"]}
    rotated = Envelope(base64.b64encode(json.dumps(rotated_keyset).encode()).decode())
    assert rotated.master_key_id != old.master_key_id
    with rotated.decrypting_stream(io.BytesIO(ciphertext), wrapped=wrapped, object_id="rec-r") as plain:
        assert plain.read() == b"recorded before rotation"
    _, new_wrapped = encrypt_bytes(rotated, b"after", "rec-n", tmp_path)
    with pytest.raises(DecryptionFailed):
        old.decrypting_stream(io.BytesIO(b""), wrapped=new_wrapped, object_id="rec-n")


def test_decryption_streams_without_holding_the_file(tmp_path) -> None:
    envelope = Envelope(generate_master_key())
    source = tmp_path / "big.raw"
    block = os.urandom(1024 * 1024)
    with source.open("wb") as handle:
        for _ in range(200):
            handle.write(block)
    target = tmp_path / "big.enc"
    with source.open("rb") as handle:
        wrapped = envelope.encrypt(handle, target.open("wb"), object_id="big")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    total = 0
    with envelope.decrypting_stream(target.open("rb"), wrapped=wrapped.wrapped, object_id="big") as plain:
        while chunk := plain.read(1024 * 1024):
            total += len(chunk)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert total == 200 * len(block)
    assert grown_mib < 64, f"peak RSS grew {grown_mib:.0f} MiB while decrypting 200 MiB"


def test_invalid_master_key_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="CALLVAULT_MASTER_KEY"):
        Envelope("")
    with pytest.raises(ValueError, match="not a valid"):
        Envelope(base64.b64encode(b"not a keyset").decode())
