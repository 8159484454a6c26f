"""Free text a person must fill in (study, purpose, reasons, signer): not blank, within its length as it is kept
(without the whitespace around it, which a reason pasted with a line break after it carried past the limit), and
written as `written_text` holds all free text to be."""

from __future__ import annotations

from recordings_service.errors import Invalid
from recordings_service.written_text import refuse_controls_in_text, refuse_invisible_in_line

MAX_TEXT = 2000


def check_line(name: str, value: str, *, what: str, limit: int) -> None:
    """A name or a label (a study's name, a signer): one line of visible text."""
    _check_length(name, value, limit=limit)
    refuse_invisible_in_line(name, value, what=what)


def check_text(name: str, value: str, *, what: str, limit: int = MAX_TEXT) -> None:
    """Text in lines (a purpose, a reason, a statement): its line breaks and tabs are its own."""
    _check_length(name, value, limit=limit)
    refuse_controls_in_text(name, value, what=what)


def _check_length(name: str, value: str, *, limit: int) -> None:
    kept = value.strip()
    if not kept or len(kept) > limit:
        raise Invalid(name, f"1 to {limit} characters", code="invalid_length", why=None if kept else "blank")
