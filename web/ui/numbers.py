"""Numbers typed into forms and query strings."""

from __future__ import annotations

import math

MAX_DIGITS = 12
MAX_SECONDS_CHARS = 32


def whole_number(raw: str | None, *, digits: int = MAX_DIGITS) -> int | None:
    """The whole number 0 or more that `raw` spells in ASCII digits (at most `digits` of them), else None.

    `str.isdigit` also takes "²" and other digits `int` refuses, and `int` refuses over 4300 digits: both were
    500s. `int` also reads "1_0" as 10."""
    text = (raw or "").strip()
    if not text or len(text) > digits or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


def typed_seconds(raw: str | None) -> float | None:
    """A finite number of seconds as typed (a decimal comma too: "12,5"), else None (`inf` and `nan` included)."""
    text = (raw or "").strip().replace(",", ".")
    if not text or len(text) > MAX_SECONDS_CHARS:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def seconds_text(seconds: float) -> str:
    """Seconds as a form field shows them: to the millisecond they are kept to, with no trailing zeros (`:g` keeps
    six significant digits, so a moment 20 minutes into a call, 1234.567, came back as 1234.57)."""
    return f"{seconds:.3f}".rstrip("0").rstrip(".")
