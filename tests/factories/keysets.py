"""Master keysets as an operator's rotation (or a mistake after one) leaves them."""

from __future__ import annotations

import base64
import json

from recordings_service.storage.encryption import generate_master_key


def rotated(master_key: str) -> str:
    """`master_key`'s keyset with a new primary key added, as a rotation makes it."""
    old_keyset = json.loads(base64.b64decode(master_key))
    new_keyset = json.loads(base64.b64decode(generate_master_key()))
    keyset = {"primaryKeyId": new_keyset["primaryKeyId"], "key": old_keyset["key"] + new_keyset["key"]}
    return base64.b64encode(json.dumps(keyset).encode()).decode()


def only_primary(master_key: str) -> str:
    """`master_key`'s keyset without its earlier keys: the old one removed too early after a rotation."""
    keyset = json.loads(base64.b64decode(master_key))
    keyset["key"] = [key for key in keyset["key"] if key["keyId"] == keyset["primaryKeyId"]]
    return base64.b64encode(json.dumps(keyset).encode()).decode()
