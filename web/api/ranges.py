"""Answering a single byte range (`Range: bytes=a-b`) of a streamed body: players and resumed downloads."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from flask import Response, request


def range_start() -> int | None:
    """Where a single-range request starts (a player's first request, from 0, counts as a listen)."""
    requested = request.range
    return requested.ranges[0][0] if requested is not None and len(requested.ranges) == 1 else None


def ranged_response(size: int, media_type: str, read: Callable[[int, int], Iterator[bytes]]) -> Response:
    """A streamed, uncached answer of `size` bytes honouring one byte range (206, or 416 when out of reach)."""
    requested = request.range
    span = requested.range_for_length(size) if requested is not None else None
    if requested is not None and span is None and len(requested.ranges) == 1:
        response = Response(status=416)
        response.headers["Content-Range"] = f"bytes */{size}"
        return response
    start, stop = span if span is not None else (0, size)
    response = Response(read(start, stop), status=206 if span is not None else 200, mimetype=media_type)
    response.headers["Content-Length"] = str(stop - start)
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["Cache-Control"] = "no-store"
    if span is not None:
        response.headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
    return response
