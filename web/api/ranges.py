"""Answering a single byte range (`Range: bytes=a-b`) of a streamed body: players and resumed downloads.

Parsed here after RFC 9110 §14 rather than by werkzeug's `Range.range_for_length`, which refuses a suffix longer
than the body, lets `bytes=-0` through as no range at all and answers an unknown unit with 416.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from flask import Response, request
from pydantic import BaseModel
from pydantic.json_schema import SkipJsonSchema

from web.api.validation import optional_header
from web.errors import error_response

# (first, last) of a byte-range-spec, inclusive; (None, n) is the suffix of n bytes.
ByteRange = tuple[int | None, int | None]

_RANGE_SPEC = re.compile(r"(?:(\d+)-(\d*)|-(\d+))", re.ASCII)
# No body comes near 10**30 bytes. A position with more significant digits is read as this one, beyond every
# body: int() refuses more than 4300 digits, which a Range header easily holds (that answered 500).
_BEYOND_ANY_BODY = 10**30


class RangeHeaders(BaseModel):
    """The request headers of a route answering one byte range, declared in the API document (read by
    `requested_span`)."""

    range: str | SkipJsonSchema[None] = optional_header(
        "Range",
        "one byte range, `bytes=first-last` or `bytes=-suffix`: answered 206 with it, 416 when it selects none of "
        "the bytes; several ranges, or another unit, get the whole body",
    )
    if_range: str | SkipJsonSchema[None] = optional_header(
        "If-Range",
        "the `ETag` of an earlier answer: the range applies only while the bytes are still those; otherwise the "
        "whole body is sent (200)",
    )


@dataclass(frozen=True)
class Span:
    """The bytes an answer carries: `start` to `stop` (exclusive); `partial` when answered 206."""

    start: int
    stop: int
    partial: bool


def parse_byte_ranges(value: str | None) -> list[ByteRange] | None:
    """The byte-range-specs of a `Range` header, or None when it is to be ignored: absent, of another unit
    (RFC 9110 §14.2 says to ignore it, not to refuse it) or not valid syntax (§14.1.1)."""
    if value is None:
        return None
    unit, equals, specs = value.partition("=")
    if not equals or unit.strip(" \t").lower() != "bytes":
        return None
    ranges: list[ByteRange] = []
    # A `#` list may hold empty elements, which recipients skip (RFC 9110 §5.6.1.2).
    for item in (part.strip(" \t") for part in specs.split(",")):
        if not item:
            continue
        match = _RANGE_SPEC.fullmatch(item)
        if match is None:
            return None
        first, last, suffix = match.groups()
        if suffix is not None:
            ranges.append((None, _position(suffix)))
        elif last and _position(last) < _position(first):
            return None
        else:
            ranges.append((_position(first), _position(last) if last else None))
    return ranges or None


def _position(digits: str) -> int:
    significant = digits.lstrip("0")
    return _BEYOND_ANY_BODY if len(significant) > 30 else int(significant or "0")


def entity_tag(kind: str, *parts: object) -> str:
    """A strong entity tag for the bytes that `parts` determine (a stored hash, a key, a span, a size): their
    SHA-256, so a client can tell two bodies apart while no id, hash of audio or span shows through."""
    basis = json.dumps([kind, *parts], separators=(",", ":"), default=str)
    return hashlib.sha256(basis.encode()).hexdigest()


def if_range_holds(if_range: str | None, etag: str | None) -> bool:
    """Whether a request's `If-Range` lets its Range apply: only a strong match of the current entity tag does
    (RFC 9110 §13.1.5); a date never matches, since no Last-Modified is sent, and neither does any tag when the
    caller knows none for its bytes — resuming onto different bytes would splice two bodies."""
    if if_range is None:
        return True
    return etag is not None and if_range.strip(" \t") == f'"{etag}"'


def select_span(range_header: str | None, if_range: str | None, size: int, *, etag: str | None = None) -> Span | None:
    """The bytes the answer to a request with these headers carries from a body of `size` bytes; None when its
    single range selects nothing there (416).

    Several ranges are answered with the whole body, which RFC 9110 §14.2 allows: a multipart/byteranges answer
    would buy players nothing and would need each part audited."""
    whole = Span(0, size, partial=False)
    chosen = _single_range(range_header, if_range, etag)
    if chosen is None:
        return whole
    first, last = chosen
    if first is None:
        if last == 0:
            return None  # a zero-length suffix selects nothing (§14.1.1)
        if size == 0:
            return whole  # satisfiable, yet no Content-Range can name bytes of an empty body
        # A suffix longer than the body selects all of it (§14.1.2).
        return Span(max(size - (last or 0), 0), size, partial=True)
    if first >= size:
        return None
    return Span(first, size if last is None else min(last + 1, size), partial=True)


def _single_range(range_header: str | None, if_range: str | None, etag: str | None) -> ByteRange | None:
    """The one byte range a request asks for and may have; None when it is answered with the whole body (no
    range, an ignored one, several, or one that If-Range does not let apply)."""
    ranges = parse_byte_ranges(range_header)
    if ranges is None or len(ranges) != 1 or not if_range_holds(if_range, etag):
        return None
    return ranges[0]


def serves_bytes() -> bool:
    """Whether the answer carries its body: a HEAD request (a download manager's probe) gets none, so it is no
    play or download to audit."""
    return request.method != "HEAD"


def requested_span(size: int, *, etag: str | None = None) -> Span | None:
    """The bytes the answer to this request for a body of `size` bytes carries; None when its range is out of
    reach (416). Several ranges at once, and a range that If-Range does not let apply, get the whole body.
    `etag` is the strong entity tag of exactly these bytes, when the caller knows one."""
    return select_span(request.headers.get("Range"), request.headers.get("If-Range"), size, etag=etag)


def ranged_response(
    size: int, media_type: str, read: Callable[[int, int], Iterator[bytes]], *, etag: str | None = None
) -> Response:
    """A streamed, uncached answer of `size` bytes honouring one byte range (206, or 416 when out of reach).

    `etag`, given, is sent as the strong entity tag so a client can resume with If-Range; it must change
    whenever the bytes do, and be the same one given to `requested_span` for the audit."""
    span = requested_span(size, etag=etag)
    if span is None:
        message = f"the range asked for selects none of the {size} bytes there are"
        response = error_response(416, "range_not_satisfiable", message, "Range")
        response.headers["Content-Range"] = f"bytes */{size}"
        return response
    # A HEAD answer carries the headers only: nothing is read, decrypted or (where `read` audits) recorded.
    body = read(span.start, span.stop) if serves_bytes() else iter(())
    response = Response(body, status=206 if span.partial else 200, mimetype=media_type)
    response.headers["Content-Length"] = str(span.stop - span.start)
    response.headers["Accept-Ranges"] = "bytes"
    if etag is not None:
        response.headers["ETag"] = f'"{etag}"'
    if span.partial:
        response.headers["Content-Range"] = f"bytes {span.start}-{span.stop - 1}/{size}"
    return response
