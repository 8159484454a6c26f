"""What trainers write about a clip or a set, shown in the trainers' library, on a set's player and in exports: the
core's rule for free text (`recordings_service.written_text`: a title one line of visible text, notes and a
description text in lines), with the trainers' redaction.

Text the clip or set says as stored (`kept`, exactly) is taken as it is: not checked, not redacted again, so not a
change. A PATCH of a clip's tags sends no title, the edit pages send the title and notes back as shown, and text
stored before these checks, or before the detectors or the customer-number pattern changed, stays editable and
unchanged: a tags-only edit rewrote such a title, or was refused for it. Redacting stored text again is the
refresh's (`text_refresh`), as `clip_tags.checked_tags` leaves a clip's stored tags to it.
"""

from __future__ import annotations

from collections.abc import Callable

from recordings_service.errors import Invalid
from recordings_service.training.redacted_text import Redactor, redacted_within
from recordings_service.written_text import refuse_controls_in_text, refuse_invisible_in_title


def checked_title(typed: str, *, kept: str | None, limit: int, what: str, redact: Redactor) -> str:
    """A title of `what` ("the clip", "the set") as written: `kept` (the title as stored) where `typed` is it, else
    refused unless one line of visible text, and redacted by `redact` within `limit` characters."""

    def refuse(title: str) -> None:
        if not title:
            raise Invalid("title", f"give {what} a title", code="missing")
        refuse_invisible_in_title(title)

    return _written("title", typed, kept=kept, limit=limit, redact=redact, refuse=refuse)


def checked_text(field: str, typed: str, *, kept: str | None, limit: int, what: str, redact: Redactor) -> str:
    """Text in lines (`what`: "a clip's notes") as written: `kept` (as stored) where `typed` is it, else refused,
    naming `field`, where it holds a control character other than a line break or a tab, or a bidi control, and
    redacted by `redact` within `limit` characters."""

    def refuse(text: str) -> None:
        refuse_controls_in_text(field, text, what=what)

    return _written(field, typed, kept=kept, limit=limit, redact=redact, refuse=refuse)


def _written(
    field: str, typed: str, *, kept: str | None, limit: int, redact: Redactor, refuse: Callable[[str], None]
) -> str:
    text = typed.strip()
    if text == kept:
        return kept
    refuse(text)
    return redacted_within(field, text, limit, f"at most {limit} characters", redact)
