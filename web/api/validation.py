"""The API's error body, its translation of request-validation errors into it, the query of a list that takes
none, id-cursor pages, and the one way a response model becomes a JSON answer."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from flask import Response, jsonify
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from recordings_service.db import key_cursor
from recordings_service.errors import Invalid, invalid_from


class NoQuery(BaseModel):
    """The query of a list that takes no parameter: any is refused (422 `unknown_field` naming it), so a filter an
    integrator typed is not answered with the whole list as if it had filtered."""

    model_config = ConfigDict(extra="forbid")


class FieldErrorBody(BaseModel):
    field: str
    error: str
    message: str


class ErrorBody(BaseModel):
    error: str
    message: str
    field: str | None = None
    errors: list[FieldErrorBody] | None = None  # every invalid field, where several are checked at once


def trimmed(max_length: int, *, min_length: int = 0) -> StringConstraints:
    """Free text's limits counted on the text as it is kept, without the whitespace around it (as the services count
    them, `recordings_service.written_text`): counted as sent, a reason that fits was refused for its padding."""
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


def optional_header(name: str, description: str) -> Any:
    """A request header a route reads itself, as its headers model declares it to the API document: a string when
    sent (spectree's `headers`, with the route's validation skipped; no `null` a header cannot be, no default)."""

    def without_default(schema: dict[str, Any]) -> None:
        schema.pop("default", None)

    return Field(None, alias=name, description=description, json_schema_extra=without_default)


def refuse_invalid(_req: Any, _resp: Any, error: Any, _instance: Any, *_rest: Any) -> None:
    """Spectree's validation errors in the API's own error format (422 naming the field)."""
    if isinstance(error, ValidationError):
        raise invalid_from(error) from None


def next_cursor(rows: Sequence[Any], limit: int, cursor_of: Callable[[Any], str]) -> str | None:
    """The cursor of a page read as `limit + 1` rows, when more follow: `cursor_of` the last shown row."""
    return cursor_of(rows[limit - 1]) if len(rows) > limit else None


def next_id_cursor(rows: Sequence[Any], limit: int, tag: str) -> str | None:
    """`next_cursor` of a list paged by id (newest first): the last shown id, marked as the list `tag`'s
    (`recordings_service.db.id_cursor` reads it)."""
    return next_cursor(rows, limit, lambda row: key_cursor(tag, row.id))


def as_json(model: BaseModel, status: int = 200) -> tuple[Response, int]:
    """A response model as the JSON answer (field aliases as the API names them)."""
    return jsonify(model.model_dump(mode="json", by_alias=True)), status


def refuse_moments_out_of_range(*models: BaseModel | None) -> None:
    """A validated input's moment that has no UTC equivalent, as `Invalid` naming its field.

    0001-01-01T00:00+01:00 is a datetime Python holds and pydantic accepts, but in UTC it falls in year 0 (and
    9999-12-31T23:59-23:59 in year 10000): every time is compared and stored in UTC, where converting it overflowed
    (a 500). Checked on every endpoint's query and body at once, as they come out of validation.
    """
    pending: deque[tuple[str, Any]] = deque(("", model) for model in models if model is not None)
    while pending:
        path, value = pending.popleft()
        if isinstance(value, datetime) and value.utcoffset() is not None:
            try:
                value.astimezone(UTC)
            except OverflowError:
                raise Invalid(
                    path, "the moment is out of range: in UTC it falls outside the years 1 to 9999", code="out_of_range"
                ) from None
        elif isinstance(value, BaseModel):
            for name, field in type(value).model_fields.items():
                pending.append((_joined(path, field.alias or name), getattr(value, name)))
        elif isinstance(value, (list, tuple)):
            pending.extend((_joined(path, str(index)), item) for index, item in enumerate(value))
        elif isinstance(value, dict):
            pending.extend((_joined(path, str(key)), item) for key, item in value.items())


def _joined(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
