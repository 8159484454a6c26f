"""Answering a single byte range (`Range: bytes=a-b`) of a streamed body: players and resumed downloads."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from flask import Response, request

from web.errors import error_response


@dataclass(frozen=True)
class Span:
    """The bytes an answer carries: `start` to `stop` (exclusive); `partial` when answered 206."""

    start: int
    stop: int
    partial: bool


def range_start() -> int | None:
    """Where a single-range request starts (a player's first request, from 0, counts as a listen).

    A suffix range (`bytes=-N`) may reach back to the start, so it counts as starting there.
    """
    requested = request.range
    if requested is None or len(requested.ranges) != 1:
        return None
    return max(requested.ranges[0][0], 0)


def requested_span(size: int) -> Span | None:
    """The bytes the answer to this request for a body of `size` bytes carries; None when its range is out of
    reach (416). Several ranges at once are answered with the whole body."""
    requested = request.range
    span = requested.range_for_length(size) if requested is not None else None
    if requested is not None and span is None and len(requested.ranges) == 1:
        return None
    return Span(*span, partial=True) if span is not None else Span(0, size, partial=False)


def ranged_response(size: int, media_type: str, read: Callable[[int, int], Iterator[bytes]]) -> Response:
    """A streamed, uncached answer of `size` bytes honouring one byte range (206, or 416 when out of reach)."""
    span = requested_span(size)
    if span is None:
        message = f"the range asked for lies beyond the {size} bytes there are"
        response = error_response(416, "range_not_satisfiable", message, "Range")
        response.headers["Content-Range"] = f"bytes */{size}"
        return response
    response = Response(read(span.start, span.stop), status=206 if span.partial else 200, mimetype=media_type)
    response.headers["Content-Length"] = str(span.stop - span.start)
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["Cache-Control"] = "no-store"
    if span.partial:
        response.headers["Content-Range"] = f"bytes {span.start}-{span.stop - 1}/{size}"
    return response
