"""A size limit on every request body, checked before anything reads the body (authorization and CSRF included).

A request may carry up to CALLVAULT_MAX_REQUEST_BYTES; an upload endpoint declares its own limit with
`allows_body`. An announced Content-Length over the limit is refused at once; a body without one (chunked)
is cut off by Werkzeug at the same limit while it is read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, request

from recordings_service.config import Settings
from recordings_service.errors import TooLarge
from web.database import runtime

View = TypeVar("View", bound=Callable[..., Any])
ATTRIBUTE = "body_limit"


def allows_body(limit: Callable[[Settings], int]) -> Callable[[View], View]:
    """Declare the largest body (in bytes, from the settings) this endpoint accepts instead of the app's limit."""

    def declare(view: View) -> View:
        setattr(view, ATTRIBUTE, limit)
        return view

    return declare


def init_app(app: Flask, *, max_request_bytes: int) -> None:
    app.config["MAX_CONTENT_LENGTH"] = max_request_bytes
    app.before_request(enforce)


def enforce() -> None:
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    limit = getattr(view, ATTRIBUTE, None)
    if limit is not None:
        request.max_content_length = limit(runtime().settings)
    allowed = request.max_content_length
    if allowed is not None and request.content_length is not None and request.content_length > allowed:
        raise TooLarge("body", f"the request body exceeds the limit of {allowed} bytes")
