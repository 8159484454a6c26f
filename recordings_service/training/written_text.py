"""What trainers write about a clip or a set, shown in the trainers' library, on a set's player and in exports.

A title (a clip's, a set's) is one line of visible text, as a clip's tag is: one of a zero-width space alone (U+200B)
passed "give the clip a title" and showed as an empty title, one with a bidi override (U+202E) showed its words turned
round, and an escape or U+0001 was stored as typed. Each is refused (why `invisible_in_title`). A clip's notes and a
set's description are text in lines: their line breaks and tabs stay, other control characters and the bidi controls
are refused (why `control_in_text`).

Text the clip or set says as stored (`kept`, exactly) is taken as it is: a PATCH of a clip's tags sends no title, the
edit pages send the title and notes back as shown, and one stored before these checks stays editable.
"""

from __future__ import annotations

from recordings_service.account_names import control_refused, first_control, refuse_unseen
from recordings_service.errors import Invalid


def refuse_invisible_in_title(title: str, *, kept: str | None = None) -> None:
    """`Invalid` naming `title` where the title (stripped) is not one line of visible text, unless it is `kept`."""
    title = title.strip()
    if title != kept:
        refuse_unseen(title, field="title", what="a title", why="invisible_in_title")


def refuse_controls_in_text(field: str, text: str, *, what: str, kept: str | None = None) -> None:
    """`Invalid` naming `field` where `text` (stripped), text in lines (`what`), holds a control character other than
    a line break or a tab, or a bidi control, unless it is `kept`."""
    text = text.strip()
    character = None if text == kept else first_control(text)
    if character is not None:
        raise Invalid(field, control_refused(character, what=what), code="invalid_character", why="control_in_text")
