"""The API's error body and its translation of request-validation errors into it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from recordings_service.errors import invalid_from


class ErrorBody(BaseModel):
    error: str
    message: str
    field: str | None = None


def refuse_invalid(_req: Any, _resp: Any, error: Any, _instance: Any, *_rest: Any) -> None:
    """Spectree's validation errors in the API's own error format (422 naming the field)."""
    if isinstance(error, ValidationError):
        raise invalid_from(error) from None
