"""A JSON request body's text: UTF-8, as RFC 8259 says JSON exchanged between systems must be, or refused saying so.

A body whose bytes were not UTF-8 (`{"title": "Ä"}` from a client writing Latin-1, as Windows PowerShell 5's
Invoke-RestMethod does) was refused "the request body must be a JSON object", which sent the client looking at its
braces; one in UTF-16 or UTF-32 (a BOM, or the NUL bytes of its ASCII) as "not valid JSON: expected value at line 1
column 1". Each is now 422 `not_utf8` naming `body`, saying where the first such byte stands or which encoding the
body is in, wherever a JSON body is read: the app-wide check of NUL (`nul_bytes`) before it parses, and the API's
validation. A `charset` parameter is not read (RFC 8259 registers none: "adding one really has no effect"): the
bytes decide, and a refusal names a declared charset other than UTF-8 so that the client sees why it did not help. A
UTF-8 byte order mark is let through (RFC 8259 lets a parser ignore it, as the ingest's metadata does): Notepad and
PowerShell begin a saved file with one, and the text after it is UTF-8.
"""

from __future__ import annotations

import codecs

from recordings_service.errors import Invalid
from recordings_service.utf8_text import not_utf8_at

NOT_UTF8 = "not_utf8"
UTF8_BOM = codecs.BOM_UTF8
_UTF8_NAMES = frozenset({"utf-8", "utf8"})


def json_text(body: bytes, *, charset: str | None = None) -> bytes:
    """`body` without a UTF-8 byte order mark; `Invalid` (`not_utf8`, naming `body`) where its bytes are not UTF-8."""
    found = _other_encoding(body) or not_utf8_at(body)
    if found is None:
        return body.removeprefix(UTF8_BOM)
    advice = "send it encoded in UTF-8, as JSON is exchanged (RFC 8259)"
    if charset and charset.strip().lower() not in _UTF8_NAMES:
        advice += f"; the charset it declares ({charset}) is not read"
    message = f"the request body is not UTF-8 text ({found}); {advice}"
    raise Invalid("body", message, code=NOT_UTF8, values={"name": "body"})


def _other_encoding(body: bytes) -> str | None:
    """ "it is UTF-16 text" (or UTF-32) where `body` begins with that encoding's byte order mark or, as a JSON text
    begins with an ASCII character, with the NUL bytes the encoding gives one (RFC 4627's detection)."""
    head = body[:4]
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "it is UTF-32 text"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "it is UTF-16 text"
    if len(head) == 4 and (head[:3] == b"\x00\x00\x00" or head[1:] == b"\x00\x00\x00"):
        return "it is UTF-32 text"
    if len(head) >= 2 and b"\x00" in head[:2]:
        return "it is UTF-16 text"
    return None
