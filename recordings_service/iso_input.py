"""Dates and moments as input: ISO 8601 text (a day `2026-03-01`, a moment `2026-03-01T09:30:00+02:00`, its offset
also as hours alone: `+02`), nothing else.

Pydantic also reads a number, or a string of digits, as seconds since 1970 (a date as that day): a call's `started_at`
"10" was a call of 1 January 1970, refused only as past its retention; a research batch's `access_start` "10" opened it
at once; `?started_from=0` filtered nothing. None of that is what a sender can have meant.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

# ISO 8601 text begins with the year's four digits and a hyphen; a count of seconds never has that hyphen.
_MOMENT_TEXT = re.compile(r"[0-9]{4}-.*", re.DOTALL)
_DAY_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# A moment's offset after a space: its `+` sent unencoded in a query string, which decodes it as a space.
_PLUS_AS_SPACE = re.compile(r".*[0-9] [0-9]{2}(:?[0-9]{2})?", re.DOTALL)
# An offset of whole hours written as hours alone (`+02`), as ISO 8601 allows and Python reads it; Pydantic does not.
_HOURS_OFFSET = re.compile(r".*[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?[+-][0-9]{2}", re.DOTALL)


def _parsed(adapter: TypeAdapter[Any], text: re.Pattern[str], error_type: str, expected: str) -> Callable[[Any], Any]:
    """A check that lets through what code passes (a date or datetime) and ISO 8601 text, parsed: parsed here, as
    the strict JSON API would not take text once a validator has seen it."""

    def check(value: Any) -> Any:
        if isinstance(value, date):  # datetime is a date too
            return value
        if not (isinstance(value, str) and text.fullmatch(value)):
            raise PydanticCustomError(error_type, f"give {expected}")
        if _HOURS_OFFSET.fullmatch(value):
            value += ":00"
        try:
            return adapter.validate_python(value, strict=False)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            if first["type"] == "timezone_aware":  # Pydantic's "Input should have timezone info" gives no example
                raise PydanticCustomError(first["type"], f"the time has no offset from UTC: give {expected}") from None
            # Pydantic's message says what is wrong ("unexpected extra characters at the end of the input"), not
            # what would be right.
            message = f"{first['msg']}: give {expected}"
            if _PLUS_AS_SPACE.fullmatch(value):
                message += "; a '+' sent unencoded in a URL's query reads as a space: send the offset's '+' as %2B"
            raise PydanticCustomError(first["type"], message) from None

    return check


# A moment with its offset from UTC; one without is refused as `timezone_required`, as before.
Moment = Annotated[
    AwareDatetime,
    BeforeValidator(
        _parsed(
            TypeAdapter(AwareDatetime),
            _MOMENT_TEXT,
            "datetime_parsing",
            "an ISO 8601 date and time with its offset: 2026-03-01T09:30:00+02:00",
        )
    ),
]
# A calendar day.
Day = Annotated[
    date, BeforeValidator(_parsed(TypeAdapter(date), _DAY_TEXT, "date_parsing", "an ISO 8601 date: 2026-03-01"))
]
