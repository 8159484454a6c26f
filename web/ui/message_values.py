"""What a page's message for a refusal is: a fixed text, or a text naming the values the refusal carries."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

from flask_babel.speaklater import LazyString

from recordings_service.errors import DomainError

# A message, or where it names what the error carries, a function of the error.
Message: TypeAlias = LazyString | Callable[[DomainError], str]


def naming(say: Callable[[Mapping[str, Any]], str]) -> Message:
    """A message naming the values the error carries (`DomainError.values`); one raised without them is shown as
    the service wrote it."""

    def message(exc: DomainError) -> str:
        return say(exc.values) if exc.values else exc.message

    return message
