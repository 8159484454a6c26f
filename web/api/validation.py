"""The API's error body, its translation of request-validation errors into it, id-cursor pages, and the one way a
response model becomes a JSON answer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Response, jsonify
from pydantic import BaseModel, ValidationError

from recordings_service.errors import invalid_from


class FieldErrorBody(BaseModel):
    field: str
    error: str
    message: str


class ErrorBody(BaseModel):
    error: str
    message: str
    field: str | None = None
    errors: list[FieldErrorBody] | None = None  # every invalid field, where several are checked at once


def refuse_invalid(_req: Any, _resp: Any, error: Any, _instance: Any, *_rest: Any) -> None:
    """Spectree's validation errors in the API's own error format (422 naming the field)."""
    if isinstance(error, ValidationError):
        raise invalid_from(error) from None


def next_id_cursor(rows: Sequence[Any], limit: int) -> str | None:
    """The cursor of a page read as `limit + 1` rows, newest id first: the last shown id, when more follow."""
    return str(rows[limit - 1].id) if len(rows) > limit else None


def as_json(model: BaseModel, status: int = 200) -> tuple[Response, int]:
    """A response model as the JSON answer (field aliases as the API names them)."""
    return jsonify(model.model_dump(mode="json", by_alias=True)), status
