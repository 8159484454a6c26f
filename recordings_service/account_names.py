"""Display names: what the pages and the audit trail show for a person, one line of visible text as typed (and the
same check for other text shown as one line: a token's source, a call's identifiers)."""

from __future__ import annotations

import unicodedata

from recordings_service.errors import Invalid

MAX_DISPLAY_NAME = 200  # as User.display_name
# Controls (a line break, a tab, a bell), format characters (U+202E shows the text after it right to left), line
# and paragraph separators, and lone surrogates (a CLI argument's undecodable bytes, which no database stores):
# each breaks a name's line in the trail or makes it read as another name.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
# Zero-width non-joiner and joiner stay: Persian and Indic names need them between their letters.
_JOINERS = frozenset("\u200c\u200d")


def checked_display_name(display_name: str) -> str:
    """The name without surrounding spaces; refused over 200 characters or holding a control or format character."""
    display_name = display_name.strip()
    if len(display_name) > MAX_DISPLAY_NAME:  # PostgreSQL refused it with a traceback
        raise Invalid("display_name", f"at most {MAX_DISPLAY_NAME} characters", code="too_long")
    refuse_invisible(display_name, field="display_name", what="a name")
    return display_name


def refuse_invisible(text: str, *, field: str, what: str) -> None:
    """`Invalid` naming `field` where `text` holds a control or format character: `what` is one line of visible
    text (a display name; an ingest token's source, which pages and the trail show beside the calls it sent)."""
    character = first_invisible(text)
    if character is not None:
        raise Invalid(field, invisible_refused(character, what=what), code="invalid_character")


def first_invisible(text: str) -> str | None:
    """The first control or format character in `text`, or None."""
    return next(
        (c for c in text if unicodedata.category(c) in _REFUSED_CATEGORIES and c not in _JOINERS),
        None,
    )


def invisible_refused(character: str, *, what: str) -> str:
    return f"remove the control character U+{ord(character):04X}: {what} is one line of visible text"
