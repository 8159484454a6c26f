"""Text typed into forms, with its line breaks as the person typed them.

A browser sends each line break of a textarea as CRLF (the HTML form encoding), but its `maxlength` and the
person count a line break as one character: 4000 characters with 20 line breaks arrived as 4020 and were refused
"at most 4000 characters". The CRLF belongs to the encoding, not to the text, so it is undone where the form
body is decoded: every form's text, in every view, reaches the use cases with LF line breaks (a lone CR too),
and the core's limits count what was typed. JSON bodies are left as their clients sent them.
"""

from __future__ import annotations

from typing import IO, Any

from flask import Request
from werkzeug.datastructures import MultiDict
from werkzeug.formparser import FormDataParser


def typed_line_breaks(text: str) -> str:
    """CRLF and lone CR as LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


class LineBreakFormParser(FormDataParser):
    """Form fields (not files) with their line breaks as typed."""

    def parse(
        self, stream: IO[bytes], mimetype: str, content_length: int | None, options: dict[str, str] | None = None
    ) -> tuple[IO[bytes], MultiDict[str, Any], MultiDict[str, Any]]:
        stream, form, files = super().parse(stream, mimetype, content_length, options)
        typed = self.cls((name, typed_line_breaks(value)) for name, value in form.items(multi=True))
        return stream, typed, files


class FormRequest(Request):
    """The app's request: its `form` holds text as typed (see the module's docstring)."""

    form_data_parser_class = LineBreakFormParser
