"""What a page says when a use case refuses: the domain error's message in the reader's language.

The services raise their errors in English and may name API fields (`recording_id`, `score_max`). A page shows
the message listed for the error's field and code (or for its code alone, where the code means one thing
whatever the field), and the service's own message for any other: a new error reads in English until it is
listed. An error's `why` (`request_answered`), where it has one, is looked up first, the same two ways: it
names one refusal where the API's code stays generic (`conflict`). An error a view raised itself is already in
the reader's language and is shown as it is. The messages are listed by area in web/ui/messages/ and merged here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from flask import flash
from flask_babel.speaklater import LazyString

from recordings_service.errors import DomainError, Invalid
from web.ui.message_values import Message
from web.ui.messages import accounts, calls, evaluations, form_builder, privacy, research, training, typed_input

Key = TypeVar("Key", str, tuple[str, str])


def _merged(tables: Mapping[str, Mapping[Key, Message]]) -> dict[Key, Message]:
    """The areas' tables, by area name, as one table."""
    # Merging would let the later of two areas listing one key silently shadow the other.
    listed_by: dict[Key, str] = {}
    for area, table in tables.items():
        for key in table:
            if key in listed_by:
                raise ValueError(f"{key!r} is listed by both {listed_by[key]} and {area}: list it in one area")
            listed_by[key] = area
    return {key: message for table in tables.values() for key, message in table.items()}


FIELD_MESSAGES: dict[tuple[str, str], Message] = _merged(
    {
        "typed_input": typed_input.FIELD_MESSAGES,
        "calls": calls.FIELD_MESSAGES,
        "evaluations": evaluations.FIELD_MESSAGES,
        "privacy": privacy.FIELD_MESSAGES,
        "training": training.FIELD_MESSAGES,
        "research": research.FIELD_MESSAGES,
        "accounts": accounts.FIELD_MESSAGES,
    }
)
CODE_MESSAGES: dict[str, Message] = _merged(
    {
        "typed_input": typed_input.CODE_MESSAGES,
        "calls": calls.CODE_MESSAGES,
        "evaluations": evaluations.CODE_MESSAGES,
        "form_builder": form_builder.CODE_MESSAGES,
        "privacy": privacy.CODE_MESSAGES,
        "training": training.CODE_MESSAGES,
        "research": research.CODE_MESSAGES,
        "accounts": accounts.CODE_MESSAGES,
    }
)


def error_message(exc: DomainError) -> str:
    """The error as the page says it, in the reader's language; the service's message for one not listed."""
    listed = listed_message(exc)
    return exc.message if listed is None else listed


def listed_message(exc: DomainError) -> str | None:
    """The error in the reader's language, where it is listed here; else None."""
    field = exc.field if isinstance(exc, Invalid) else None
    for code in (exc.why, exc.code):
        if code is None:
            continue
        message = FIELD_MESSAGES.get((field, code)) if field is not None else None
        if message is None:
            message = CODE_MESSAGES.get(code)
        if message is not None:
            return str(message) if isinstance(message, LazyString) else message(exc)
    return None


def flash_error(exc: DomainError) -> None:
    flash(error_message(exc), "error")
