"""The OpenAPI description of routes that answer with a file (audio, a ZIP package, a PDF, a CSV) streamed as it is
read: the file's media types instead of a JSON schema, and with byte ranges the partial answer and the refusal of a
range out of reach. Their errors are JSON bodies, as everywhere."""

from __future__ import annotations

from typing import Any

from spectree import Response as SpecResponse
from spectree.utils import get_model_key

from recordings_service.audio.formats import FORMATS, UNKNOWN
from web.api.validation import ErrorBody

# What a recording's original (or its redacted copy, made in the same container) is served as.
RECORDING_MEDIA_TYPES = tuple(dict.fromkeys(each.media_type for each in (*FORMATS.values(), UNKNOWN)))
_BINARY = {"schema": {"type": "string", "format": "binary"}}
_TEXT = {"schema": {"type": "string"}}
# What an answer to a ranged route says of its bytes (`ranges.ranged_response`): a client resumes a broken download
# with `Range` from where it stopped and `If-Range` naming the ETag it was given.
_RANGE_ANSWER_HEADERS = {
    "200": ("ETag", "Accept-Ranges"),
    "206": ("ETag", "Accept-Ranges", "Content-Range"),
    "416": ("Content-Range",),
}
_HEADER_MEANINGS = {
    "ETag": "the strong entity tag of these bytes, for `If-Range`",
    "Accept-Ranges": "`bytes`: a single byte range may be asked for",
    "Content-Range": "the bytes carried, `bytes first-last/size`; on a 416, `bytes */size`",
}


class FileAnswer(SpecResponse):
    """200 with a file of one of `media_types`; with `ranges`, 206 for one byte range (`Range`, `If-Range`) and 416
    for a range out of reach. The route's error answers are given as for any route."""

    def __init__(self, *media_types: str, ranges: bool = False, **errors: Any) -> None:
        if ranges:
            errors.setdefault("HTTP_416", ErrorBody)
        super().__init__(*(("HTTP_200", "HTTP_206") if ranges else ("HTTP_200",)), **errors)
        self.media_types = media_types
        self.ranges = ranges

    def generate_spec(self, naming_strategy: Any = get_model_key) -> dict[str, Any]:
        spec = super().generate_spec(naming_strategy)
        for code in ("200", "206"):
            if code in spec:
                spec[code]["content"] = dict.fromkeys(self.media_types, _BINARY)
        for code, names in _RANGE_ANSWER_HEADERS.items() if self.ranges else ():
            spec[code]["headers"] = {name: {"description": _HEADER_MEANINGS[name], "schema": _TEXT} for name in names}
        return spec
