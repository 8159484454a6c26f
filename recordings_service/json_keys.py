"""JSON objects whose keys are each given once: a key given twice is refused, not settled by whichever copy a parser
happens to keep.

RFC 8259 leaves what a repeated name means to the reader; Python's parser and pydantic's keep the last copy, others
the first. A call's metadata `{"queue": "sales", …, "queue": "billing"}` was stored as billing, a subject request of
kind access and then erasure as an erasure: a proxy, a log or an auditor reading the same body could take it for
another request than the one acted on.
"""

from __future__ import annotations

from typing import Any

from recordings_service.errors import FieldError, Invalid

CODE = "duplicate_key"


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(f"{key!r} is given more than once; give each field once")
        self.key = key

    def refusal(self) -> Invalid:
        """The refusal naming the repeated key (a nested one by its own name)."""
        message = str(self)
        return Invalid(self.key, message, code=CODE, errors=[FieldError(field=self.key, code=CODE, message=message)])


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """`json.loads`'s `object_pairs_hook`: the object, or `DuplicateKey` naming the first key given twice."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise DuplicateKey(key)
        found[key] = value
    return found
