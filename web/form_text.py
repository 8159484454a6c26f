"""Text typed into forms, as it was sent: its line breaks as the person typed them, and its bytes either UTF-8 text
or refused.

A browser sends each line break of a textarea as CRLF (the HTML form encoding), but its `maxlength` and the
person count a line break as one character: 4000 characters with 20 line breaks arrived as 4020 and were refused
"at most 4000 characters". The CRLF belongs to the encoding, not to the text, so it is undone where the form
body is decoded: every form's text, in every view, reaches the use cases with LF line breaks (a lone CR too),
and the core's limits count what was typed. JSON bodies are left as their clients sent them.

Werkzeug decodes a multipart field part that declares no charset (or one it does not honour) as UTF-8 with errors
replaced, and keeps a URL-encoded field's escape of a byte that is not UTF-8 as text: a partner's confirmation whose
signer or statement came in a legacy code page (Latin-1's Ä as the one byte 0xC4) was stored with U+FFFD, or
"%C4", for its letters, a signed custody statement silently not the one sent. Fields are decoded here keeping any
such byte (as a lone surrogate), and `refuse_not_utf8` refuses the field before a view sees it, saying where the
byte stands. A part that declares charset=iso-8859-1 is read as Latin-1, as Werkzeug reads it. The ingest, which
parses its own body, reads its field parts with the same `ExactFieldParser` (web/api/uploads.py).
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable
from typing import IO, Any
from urllib.parse import parse_qsl

from flask import Request
from werkzeug.datastructures import MultiDict
from werkzeug.formparser import FormDataParser, MultiPartParser

from recordings_service.errors import Invalid
from recordings_service.utf8_text import not_utf8_at

EXACT_UTF8 = "callvault_exact_utf8"
NOT_UTF8 = "not_utf8"


def _exact_utf8(name: str) -> codecs.CodecInfo | None:
    if name != EXACT_UTF8:
        return None
    return codecs.CodecInfo(
        codecs.utf_8_encode,
        lambda data, errors="strict": codecs.utf_8_decode(data, "surrogateescape", True),
        name=EXACT_UTF8,
    )


codecs.register(_exact_utf8)


def typed_line_breaks(text: str) -> str:
    """CRLF and lone CR as LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def sent_bytes(text: str) -> bytes:
    """A field's text as the bytes that were sent (those that are not UTF-8 included)."""
    return text.encode("utf-8", "surrogateescape")


class ExactFieldParser(MultiPartParser):
    """Field parts decoded as UTF-8 keeping the bytes that are not (see the module's docstring)."""

    def get_part_charset(self, headers: Any) -> str:
        # Latin-1, declared, is read as declared (a review of the ingest's fix: such metadata was refused); anything
        # else as UTF-8 exactly (ASCII is UTF-8; an undeclared or unknown charset was UTF-8 with errors replaced).
        honoured = super().get_part_charset(headers)
        return honoured if honoured == "iso-8859-1" else EXACT_UTF8


class TypedFormParser(FormDataParser):
    """Form fields (not files) with their line breaks as typed and their bytes as sent."""

    def parse(
        self, stream: IO[bytes], mimetype: str, content_length: int | None, options: dict[str, str] | None = None
    ) -> tuple[IO[bytes], MultiDict[str, Any], MultiDict[str, Any]]:
        stream, form, files = super().parse(stream, mimetype, content_length, options)
        typed = self.cls((name, typed_line_breaks(value)) for name, value in form.items(multi=True))
        return stream, typed, files

    def _parse_multipart(
        self, stream: IO[bytes], mimetype: str, content_length: int | None, options: dict[str, str]
    ) -> tuple[IO[bytes], MultiDict[str, Any], MultiDict[str, Any]]:
        parser = ExactFieldParser(
            stream_factory=self.stream_factory,
            max_form_memory_size=self.max_form_memory_size,
            max_form_parts=self.max_form_parts,
            cls=self.cls,
        )
        boundary = options.get("boundary", "").encode("ascii")
        if not boundary:
            raise ValueError("Missing boundary")
        form, files = parser.parse(stream, boundary, content_length)
        return stream, form, files

    def _parse_urlencoded(
        self, stream: IO[bytes], mimetype: str, content_length: int | None, options: dict[str, str]
    ) -> tuple[IO[bytes], MultiDict[str, Any], MultiDict[str, Any]]:
        # Werkzeug's reading dropped the whole form for a raw byte that is not UTF-8 and kept such a byte's escape
        # ("%C4") as text; either is kept as the byte it stands for, to be refused.
        text = stream.read().decode("utf-8", "surrogateescape")
        items = parse_qsl(text, keep_blank_values=True, errors="surrogateescape")
        return stream, self.cls(items), self.cls()


class FormRequest(Request):
    """The app's request: its `form` holds text as typed and sent (see the module's docstring)."""

    form_data_parser_class = TypedFormParser


def refuse_not_utf8(pairs: Iterable[tuple[Any, Any]]) -> None:
    """422 naming the first form field whose name or value holds bytes that are not UTF-8, saying where."""
    for name, value in pairs:
        for text in (name, value):
            if not isinstance(text, str) or text.isascii():
                continue
            where = not_utf8_at(sent_bytes(text))
            if where is not None:
                field = sent_bytes(name).decode("utf-8", "replace") if isinstance(name, str) else "body"
                message = (
                    f"the field is not UTF-8 text ({where}); send it encoded in UTF-8 "
                    "(or, as a multipart part, declare charset=iso-8859-1 for Latin-1)"
                )
                raise Invalid(field, message, code=NOT_UTF8)
