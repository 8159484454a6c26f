"""Display names: what the pages and the audit trail show for a person, one line of visible text as typed (and the
same check for other text shown as one line: a token's source, a call's identifiers, tags, titles); and the check for
text written in lines (a clip's notes), whose line breaks and tabs are its own."""

from __future__ import annotations

import unicodedata

from recordings_service.errors import Invalid

MAX_DISPLAY_NAME = 200  # as User.display_name
# What a plan or a rectification names, held to what ingest takes a call's queue or agent to be.
CALL_NAME = "a call's queue or agent"
# Controls (a line break, a tab, a bell), format characters (U+202E shows the text after it right to left), line
# and paragraph separators, and lone surrogates (a CLI argument's undecodable bytes, which no database stores):
# each breaks a name's line in the trail or makes it read as another name.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
# Zero-width non-joiner and joiner stay: Persian and Indic names need them between their letters.
_JOINERS = frozenset("\u200c\u200d")
# The flags of England, Scotland and Wales, the emoji tag sequences shown as emoji (UTS #51: a black flag, the tag
# letters of its region, U+E007F): their tag letters are format characters, refused elsewhere as the hidden text they
# can carry, but here they are the flag ("Soittaja 🏴󠁧󠁢󠁳󠁣󠁴󠁿 Glasgow" was refused U+E0067).
_BLACK_FLAG = "\U0001f3f4"
_TAG_END = "\U000e007f"
_TAGGED_FLAGS = tuple(
    _BLACK_FLAG + "".join(chr(0xE0000 + ord(letter)) for letter in region) + _TAG_END
    for region in ("gbeng", "gbsct", "gbwls")
)
# Text in lines keeps its line breaks and tabs; its other controls (an escape, U+0001) and lone surrogates are refused,
# and of the format characters the bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), which turn
# the text after them round (past their own line, in a page that shows them). A zero-width space, a soft hyphen or
# a left-to-right mark between words of text in lines breaks no line, and shows its text as written.
_LINE_CONTROLS = frozenset("\t\n\r")
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def checked_display_name(display_name: str) -> str:
    """The name without surrounding spaces; refused over 200 characters or holding a control or format character."""
    display_name = display_name.strip()
    if len(display_name) > MAX_DISPLAY_NAME:  # PostgreSQL refused it with a traceback
        raise Invalid("display_name", f"at most {MAX_DISPLAY_NAME} characters", code="too_long")
    refuse_invisible(display_name, field="display_name", what="a name")
    return display_name


def refuse_invisible(text: str, *, field: str, what: str, why: str | None = None) -> None:
    """`Invalid` naming `field` (with `why`, where a page says more) where `text` holds a control or format
    character: `what` is one line of visible text (a display name; an ingest token's source, which pages and the
    trail show beside the calls it sent; a call's queue or agent as a plan or a rectification names it)."""
    character = first_invisible(text)
    if character is not None:
        raise Invalid(field, invisible_refused(character, what=what), code="invalid_character", why=why)


def first_invisible(text: str) -> str | None:
    """The first control or format character in `text` (outside the flags of `_TAGGED_FLAGS`), or None."""
    if _TAG_END in text:
        for flag in _TAGGED_FLAGS:
            text = text.replace(flag, _BLACK_FLAG)
    return next(
        (c for c in text if unicodedata.category(c) in _REFUSED_CATEGORIES and c not in _JOINERS),
        None,
    )


def refuse_unseen(text: str, *, field: str, what: str, why: str) -> None:
    """`refuse_invisible` for text that must show as something (`first_unseen`: zero-width joiners alone refused too):
    a tag, a title."""
    character = first_unseen(text)
    if character is not None:
        raise Invalid(field, invisible_refused(character, what=what), code="invalid_character", why=why)


def first_unseen(text: str) -> str | None:
    """`first_invisible`, or the first character of `text` where it is zero-width joiners alone, which that check
    lets through between letters: text that shows as nothing (a tag, a title)."""
    character = first_invisible(text)
    if character is None and text and not text.strip("".join(_JOINERS)):
        return text[0]
    return character


def invisible_refused(character: str, *, what: str) -> str:
    return f"remove the control character U+{ord(character):04X}: {what} is one line of visible text"


def first_control(text: str) -> str | None:
    """The first character text in lines may not hold: a control character other than a line break or a tab, a lone
    surrogate, or a bidi control (`BIDI_CONTROLS`); or None."""
    return next(
        (
            c
            for c in text
            if c in BIDI_CONTROLS or (unicodedata.category(c) in {"Cc", "Cs"} and c not in _LINE_CONTROLS)
        ),
        None,
    )


def control_refused(character: str, *, what: str) -> str:
    return (
        f"remove the control character U+{ord(character):04X}: {what} may hold line breaks and tabs, but no other"
        " control character and no mark turning the text's direction"
    )
