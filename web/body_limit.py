"""A size limit on every request body, checked before anything reads the body (authorization and CSRF included).

A request may carry up to CALLVAULT_MAX_REQUEST_BYTES; an upload endpoint declares its own limit with
`allows_body` (and refuses what goes past it while it spools). An announced Content-Length over the limit is
refused at once; a body without one (chunked) is refused with the same 413 once its reader gets past the limit.
Before, Werkzeug stopped reading at the limit and handed over what it had read: a JSON body of 16 MiB and one byte
was acted on as its first 16 MiB (a subject request registered from a body the README says is refused).

A form refused for its size may still have its text fields read back, by `fields_ahead_of_file`, from the first
bytes of the body alone: its page can then come back as typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from recordings_service.config import Settings
from recordings_service.errors import TooLarge
from web.database import runtime
from web.form_text import typed_line_breaks

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
    connection = request.environ.get("gunicorn.socket")
    if connection is not None:
        # gunicorn waits for a body as long as its client takes: two dozen connections that announced a body and
        # sent a few bytes of it held every thread of both web workers, and every other request waited.
        stall = runtime().settings.body_stall_s
        connection.settimeout(stall if stall > 0 else None)
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    limit = getattr(view, ATTRIBUTE, None)
    if limit is not None:
        request.max_content_length = limit(runtime().settings)
    allowed = request.max_content_length
    if allowed is None:
        return
    if request.content_length is not None and request.content_length > allowed:
        raise TooLarge("body", f"the request body exceeds the limit of {allowed} bytes")
    if request.content_length is None and limit is None and "wsgi.input_terminated" in request.environ:
        # Werkzeug is let read one byte past the limit, which the capped stream refuses.
        request.environ["wsgi.input"] = CappedStream(request.environ["wsgi.input"], allowed)
        request.max_content_length = allowed + 1


class CappedStream:
    """A body of unannounced length that refuses (413) a read taking it past `limit` bytes."""

    def __init__(self, stream: Any, limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self._read = 0

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._stream.read(size)
        self._read += len(data)
        if self._read > self._limit:
            raise TooLarge("body", f"the request body exceeds the limit of {self._limit} bytes")
        return data


def fields_ahead_of_file(budget: int) -> dict[str, str] | None:
    """The text fields ahead of the first file of a multipart body that nothing has read yet (one refused by
    `enforce`), read from its first `budget` bytes and no further; None when they do not all fit, or the body is
    not multipart. A browser sends the fields in the form's order, so those typed before its file input are there."""
    boundary = request.mimetype_params.get("boundary")
    if request.mimetype != "multipart/form-data" or not boundary:
        return None
    decoder = MultipartDecoder(boundary.encode("latin-1"), max_form_memory_size=budget)
    stream = request.environ["wsgi.input"]
    fields: dict[str, bytearray] = {}
    current: bytearray | None = None
    left = budget
    try:
        while not isinstance(event := decoder.next_event(), File | Epilogue):
            if isinstance(event, NeedData):
                if left <= 0:
                    return None
                chunk = stream.read(min(left, 16 * 1024))
                left -= len(chunk)
                decoder.receive_data(chunk or None)
            elif isinstance(event, Field):
                current = fields.setdefault(event.name, bytearray()) if event.name not in fields else None
            elif isinstance(event, Data) and current is not None:
                current += event.data
    except (ValueError, RequestEntityTooLarge, TooLarge):  # not multipart after all, or read past the limit already
        return None
    text = {name: typed_line_breaks(value.decode("utf-8", "replace")) for name, value in fields.items()}
    return {name: value.replace("\x00", "") for name, value in text.items()}
