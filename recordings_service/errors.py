"""Domain errors. `web/errors.py` maps them to HTTP; the CLI and jobs report them as they are.

An error that refuses an actor something carries the refusal's audit event (`refusal`); whoever reports
the error writes that event in its own transaction, because the use case's transaction is rolled back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

if TYPE_CHECKING:
    from recordings_service.audit import Actor

# An id a request names (in its path, say) is kept in a refusal's event only in this shape: not text a caller typed
# (the trail is never edited), nor past the column's 64 characters (PostgreSQL refused the event: a 500).
ID_SHAPE = re.compile(r"[0-9A-Za-z]{1,64}")


@dataclass(frozen=True)
class Refusal:
    """The audit event a refusal leaves: who was refused what, and why (ids and codes only)."""

    actor: Actor
    action: str
    object_type: str | None
    object_id: str | None
    details: Mapping[str, Any] = field(default_factory=dict)


# Messages quote what was asked for ("recording <id> not found"); a request of any size must not come back whole,
# in a response, a flashed message's session cookie or a log line.
MAX_MESSAGE = 300


class DomainError(Exception):
    """Base of every error a use case raises on purpose.

    `code` is the API's `error` (the class's, or an `Invalid`'s own). `why` is a finer, stable code for one refusal
    (`request_answered`, `hold_released`) that the pages translate by; it does not change the API's `error`, which
    clients already match on (`conflict`, `not_found`), and is None where `code` says it all. `values` are what
    the message names (a date, a maximum), for a page to say it in its reader's language. `field` names the input
    the refusal is about, where one is (an `Invalid` always names one).
    """

    code = "error"

    def __init__(
        self,
        message: str,
        *,
        why: str | None = None,
        refusal: Refusal | None = None,
        values: Mapping[str, Any] | None = None,
        field: str | None = None,
    ) -> None:
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 1] + "…"
        super().__init__(message)
        self.message = message
        self.why = why
        self.refusal = refusal
        self.values: Mapping[str, Any] = values or {}
        self.field = field


class NotFound(DomainError):
    code = "not_found"


class Forbidden(DomainError):
    code = "forbidden"


class Unauthenticated(DomainError):
    """The credentials presented prove nobody (HTTP 401); `unauthorized` is the code clients already match on."""

    code = "unauthorized"


class Conflict(DomainError):
    code = "conflict"


@dataclass(frozen=True)
class FieldError:
    """One invalid input among several reported together."""

    field: str
    code: str
    message: str


class Invalid(DomainError):
    """Bad input; `field` names the (first) offending input, `errors` every one when several were checked at once."""

    code = "invalid"

    def __init__(
        self,
        field: str,
        message: str,
        *,
        code: str | None = None,
        why: str | None = None,
        refusal: Refusal | None = None,
        errors: Sequence[FieldError] = (),
        values: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message, why=why, refusal=refusal, values=values, field=field)
        self.field: str = field
        if code is not None:
            self.code = code
        self.errors = tuple(errors)


class TooLarge(Invalid):
    code = "too_large"


class Unavailable(DomainError):
    """A dependency (database, object store, model) cannot serve the request now."""

    code = "unavailable"


# Pydantic error types as the API's error codes.
_ERROR_CODES = {
    "extra_forbidden": "unknown_field",
    "missing": "missing",
    "timezone_aware": "timezone_required",
    "json_invalid": "invalid_json",
    "literal_error": "invalid_choice",
    "enum": "invalid_choice",
    "datetime_parsing": "invalid_datetime",
    "datetime_from_date_parsing": "invalid_datetime",
    "too_short": "invalid_length",
    "too_long": "invalid_length",
    "string_too_short": "invalid_length",
    "string_too_long": "invalid_length",
    "future": "in_future",
    "date_parsing": "invalid_date",
    "date_from_datetime_parsing": "invalid_date",
    "date_from_datetime_inexact": "invalid_date",
}
# Pydantic's prefix on what a validator raised: the API's message is the validator's own.
_VALIDATOR_PREFIX = "Value error, "


def invalid_from(error: ValidationError, *, prefix: str = "", every: bool = False) -> Invalid:
    """The first validation error as the domain's `Invalid`, naming the field and a stable code.

    With `every`, the `Invalid` also lists each validation error in `errors`, the first one included.
    """
    located = [_field_error(detail, prefix) for detail in error.errors(include_url=False)]
    first = located[0]
    return Invalid(first.field, first.message, code=first.code, errors=located if every else ())


def _field_error(detail: ErrorDetails, prefix: str) -> FieldError:
    # A union's member is named in brackets ("str-enum[Kind]"), which no field name has.
    location = ".".join(str(part) for part in detail["loc"] if "[" not in str(part))
    kind = str(detail["type"])
    code = _ERROR_CODES.get(kind) or ("wrong_type" if kind.endswith("_type") else kind)
    field = ".".join(part for part in (prefix, location) if part) or prefix or "body"
    return FieldError(field=field, code=code, message=str(detail["msg"]).removeprefix(_VALIDATOR_PREFIX))
