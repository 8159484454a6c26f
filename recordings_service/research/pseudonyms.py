"""Pseudonyms of a batch: a keyed HMAC per batch, so the same person has the same pseudonym within the
batch, and pseudonyms of two batches cannot be linked, nor reversed without the key, which is destroyed
when the batch closes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

KEY_BYTES = 32
# 80 bits: unique enough within any batch, short enough to read aloud in a study.
PSEUDONYM_BYTES = 10


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def pseudonym(key: bytes, *, kind: str, value: str) -> str:
    """`kind`-prefixed pseudonym of `value` (e.g. `customer-…`); kinds are separate namespaces."""
    digest = hmac.new(key, f"{kind}\x00{value}".encode(), hashlib.sha256).digest()[:PSEUDONYM_BYTES]
    return f"{kind}-{base64.b32encode(digest).decode().lower()}"
