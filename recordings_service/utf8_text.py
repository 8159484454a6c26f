"""Where bytes stop being UTF-8 text: told to whoever sent them (a sidecar, an ingest's metadata, a form field), so
that text in a legacy code page is refused saying where, never stored with its letters replaced."""

from __future__ import annotations


def not_utf8_at(raw: bytes) -> str | None:
    """Where `raw` stops being UTF-8 ("byte 0xD6 at line 1 column 24 is not UTF-8"), or None if it is UTF-8 text."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - raw.rfind(b"\n", 0, exc.start)
        return f"byte 0x{raw[exc.start]:02X} at line {line} column {column} is not UTF-8"
    return None
