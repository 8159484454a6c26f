"""What people write for trainers (a clip's title, tags and notes, a nomination's note) is kept with its personal
data replaced by placeholders, and its length limit holds for the text as kept: the placeholders can be longer
than what they replace (an identity code's 11 characters are `[PERSONAL_ID]`'s 13)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from recordings_service.errors import Invalid
from recordings_service.models import Recording
from recordings_service.redaction import redact_text
from recordings_service.redaction.known_values import call_identifiers

# A set's title and description may be written in any of the languages calls are in.
FREE_TEXT_LANGUAGES = ("fi", "sv", "en")

Redactor = Callable[[str], str]


def call_text_redactor(session: Session, recording: Recording, *, customer_number_pattern: str | None) -> Redactor:
    """How text written about one call (a clip's, a nomination's) is redacted: in the call's language, with the
    call's own refs replaced wherever they appear."""
    known = call_identifiers(session, recording)

    def redact(text: str) -> str:
        return redact_text(text, recording.language, customer_number_pattern=customer_number_pattern, known=known)

    return redact


def free_text_redactor(*, customer_number_pattern: str | None) -> Redactor:
    """How text about no one call (a set's title and description) is redacted: its language is not known, so each
    one's cues (names, numbers said as words) are looked for in turn."""

    def redact(text: str) -> str:
        for language in FREE_TEXT_LANGUAGES:
            text = redact_text(text, language, customer_number_pattern=customer_number_pattern)
        return text

    return redact


def redacted_within(
    field: str,
    typed: str,
    limit: int,
    message: str,
    redact: Redactor,
    *,
    why: str | None = None,
) -> str:
    """`typed`, stripped and redacted by `redact`, at most `limit` characters; else an `Invalid` naming `field`.

    Text over the limit as typed is refused with `message` (and `why`, where given) before it is redacted. Text
    within it that the placeholders made longer is refused saying so (why `too_long_after_redaction`, its length
    once redacted and the limit in `values`): it is never cut short, which would lose what was written without
    its writer knowing."""
    text = typed.strip()
    if len(text) > limit:
        raise Invalid(field, message, code="too_long", why=why)
    redacted = redact(text)
    if len(redacted) > limit:
        raise Invalid(
            field,
            f"{message}: with its personal data replaced by placeholders such as [PHONE] it is {len(redacted)}, "
            f"{len(redacted) - limit} characters too long",
            code="too_long",
            why="too_long_after_redaction",
            values={"length": len(redacted), "max": limit},
        )
    return redacted
