"""What people write for others to read: the one rule for free text, wherever it is typed (training, research,
evaluations and calibration sessions, comments on calls, legal holds, retention policies, subject requests, saved
searches and evaluation plans).

A name or a label (a clip's or a set's title, a calibration session's title, a research study's name, a custody
confirmation's signer) is one line of visible text, as a clip's tag is: one of a zero-width space alone (U+200B)
passed "give the clip a title" and showed as an empty title, one with a bidi override (U+202E) showed its words turned
round, and an escape or U+0001 was stored as typed. Each is refused (why `invisible_in_title` for a title,
`invisible_in_line` for another). Text in lines (a clip's notes, a set's description, a nomination's note, a research
purpose or reason, a custody statement, a scorer's comment) keeps its line breaks and tabs; other control characters
and the bidi controls are refused (why `control_in_text`).

The text is checked as it is stored, without its surrounding whitespace, and so are the length limits beside these
checks. Text the row says as stored (`kept`, exactly) is taken as it is: a PATCH of a clip's tags sends no title, the
edit pages send the title and notes back as shown, and one stored before these checks stays editable.
"""

from __future__ import annotations

from recordings_service.account_names import control_refused, first_control, refuse_unseen
from recordings_service.errors import Invalid


def refuse_invisible_in_title(title: str, *, kept: str | None = None) -> None:
    """`Invalid` naming `title` where the title (stripped) is not one line of visible text, unless it is `kept`."""
    refuse_invisible_in_line("title", title, what="a title", why="invisible_in_title", kept=kept)


def refuse_invisible_in_line(
    field: str, text: str, *, what: str, why: str = "invisible_in_line", kept: str | None = None
) -> None:
    """`Invalid` naming `field` where `text` (stripped), a name or a label (`what`), is not one line of visible text,
    unless it is `kept`."""
    text = text.strip()
    if text != kept:
        refuse_unseen(text, field=field, what=what, why=why)


def refuse_controls_in_text(field: str, text: str, *, what: str, kept: str | None = None) -> None:
    """`Invalid` naming `field` where `text` (stripped), text in lines (`what`), holds a control character other than
    a line break or a tab, or a bidi control, unless it is `kept`."""
    text = text.strip()
    character = None if text == kept else first_control(text)
    if character is not None:
        raise Invalid(field, control_refused(character, what=what), code="invalid_character", why="control_in_text")


def checked_lines(field: str, text: str, *, what: str, limit: int, missing: str, kept: str | None = None) -> str:
    """Text in lines a person must write (`what`: a hold's reason, a policy's basis) as it is kept: stripped, not
    blank (`missing` says what to write), at most `limit` characters, held as `refuse_controls_in_text` holds it."""
    text = text.strip()
    if not text:
        raise Invalid(field, missing, code="missing")
    if len(text) > limit:
        raise Invalid(field, f"at most {limit} characters", code="invalid_length")
    refuse_controls_in_text(field, text, what=what, kept=kept)
    return text
