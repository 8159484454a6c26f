"""What people write for trainers (a clip's title, tags and notes, a nomination's note) is kept with its personal
data replaced by placeholders, and its length limit holds for the text as kept: the placeholders can be longer
than what they replace (an identity code's 11 characters are `[PERSONAL_ID]`'s 13)."""

from __future__ import annotations

from collections.abc import Callable

from recordings_service.errors import Invalid


def redacted_within(
    field: str,
    typed: str,
    limit: int,
    message: str,
    redact: Callable[[str], str],
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
