"""Response headers that every page and API answer carries; every answer but a static file is uncacheable."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Response, make_response

View = TypeVar("View", bound=Callable[..., Any])

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def init_app(app: Flask, *, https: bool) -> None:
    @app.after_request
    def add_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if https:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if "Cache-Control" not in response.headers:
            # Whatever else the app answers may hold personal data (a list of calls with customer refs, a queue's
            # agents and their scores, a training clip's transcript), and views marked one by one missed some: kept
            # by no browser or proxy after the session ends. Static files come with their own caching.
            mark_no_store(response)
        return response


def no_store(view: View) -> View:
    """Mark a view's answers uncacheable: audio, transcripts, exports and pages with personal data.

    Shared and browser caches must not keep such content after the session ends (ASVS 8.2.1).
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        response = make_response(view(*args, **kwargs))
        mark_no_store(response)
        return response

    return wrapper  # type: ignore[return-value]


def mark_no_store(response: Response) -> Response:
    """The same as `no_store`, for a response built by hand (a streamed download)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response
