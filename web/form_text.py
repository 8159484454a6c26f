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

A query string is read the same way (`FormRequest.args`): Werkzeug kept a parameter's escape of a byte that is not
UTF-8 as text, so `?q=%C4nne` searched for "%C4nne" and `?customer_ref=%FF` listed the requests of a customer
"%FF" (none, for a customer who has some), and a raw such byte was a 500; `refuse_not_utf8` refuses the parameter.

A field an endpoint reads as a file (`file_parts`) is no text: the checks of text pass over it, and the view refuses
it sent as a plain field (`file_part`), whatever its bytes. A certificate PDF sent as text (`curl -F
certificate=<cert.pdf`) was told its bytes are not UTF-8 (or hold NUL), where what is wrong is that it is not a
file; and refused by the view, it is refused where the view has checked what it must first (another institute's
batch is 404 and audited, whatever the form holds).
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterable
from typing import IO, Any, TypeVar
from urllib.parse import parse_qsl

from flask import Request
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.formparser import FormDataParser, MultiPartParser
from werkzeug.utils import cached_property

from recordings_service.errors import Invalid
from recordings_service.utf8_text import not_utf8_at

View = TypeVar("View", bound=Callable[..., Any])
EXACT_UTF8 = "callvault_exact_utf8"
NOT_UTF8 = "not_utf8"
NOT_A_FILE = "not_a_file"
FILE_PARTS = "file_parts"
FORM_ADVICE = "send it encoded in UTF-8 (or, as a multipart part, declare charset=iso-8859-1 for Latin-1)"
QUERY_ADVICE = "send it percent-encoded as UTF-8"


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


def shown_name(name: str) -> str:
    """A field's name as an error may quote it: a byte that is not UTF-8 as U+FFFD."""
    return sent_bytes(name).decode("utf-8", "replace")


def exact_pairs(encoded: bytes) -> list[tuple[str, str]]:
    """URL-encoded pairs (a query string, a form body) keeping the bytes that are not UTF-8, raw or escaped."""
    pairs = parse_qsl(encoded.decode("utf-8", "surrogateescape"), keep_blank_values=True, errors="surrogateescape")
    return [(_joined(name), _joined(value)) for name, value in pairs]


def _joined(text: str) -> str:
    """The text decoded again from the bytes it stands for. A letter sent half escaped (`%C3` then the raw byte 0xA4,
    as a script may) is decoded in two steps, each keeping its byte as a lone surrogate: UTF-8 as a whole, the value
    passed the check of UTF-8 and then could not be written to the database or a page (a 500, at the sign-in)."""
    return text if text.isascii() else sent_bytes(text).decode("utf-8", "surrogateescape")


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
        return stream, self.cls(exact_pairs(stream.read())), self.cls()


class FormRequest(Request):
    """The app's request: its `form` holds text as typed and sent, its `args` text as sent (see the module's
    docstring)."""

    form_data_parser_class = TypedFormParser

    @cached_property
    def args(self) -> MultiDict[str, str]:
        return self.parameter_storage_class(exact_pairs(self.query_string))


def file_parts(*names: str) -> Callable[[View], View]:
    """Declare the form fields this endpoint reads as file parts (with `file_part`): no check of text applies."""

    def declare(view: View) -> View:
        setattr(view, FILE_PARTS, frozenset(names))
        return view

    return declare


def text_fields(pairs: Iterable[tuple[Any, Any]], *, view: Any) -> list[tuple[Any, Any]]:
    """The form's fields but those `view` reads as file parts (`file_parts`)."""
    files: frozenset[str] = getattr(view, FILE_PARTS, frozenset())
    return [(name, value) for name, value in pairs if name not in files]


def file_part(request: Request, name: str) -> FileStorage | None:
    """The file part `name`, if the form has one; 422 `not_a_file` where it came as a plain field, not to be passed
    over as no file."""
    if name in request.form:
        raise Invalid(name, f"send the {name} as a file part of the form, not as text", code=NOT_A_FILE)
    return request.files.get(name)


def refuse_not_utf8(pairs: Iterable[tuple[Any, Any]], *, what: str = "field", advice: str = FORM_ADVICE) -> None:
    """422 naming the first form field (or query parameter: `what`) whose name or value holds bytes that are not
    UTF-8, saying where."""
    for name, value in pairs:
        for text in (name, value):
            if not isinstance(text, str) or text.isascii():
                continue
            where = not_utf8_at(sent_bytes(text))
            if where is not None:
                field = shown_name(name) if isinstance(name, str) else "body"
                message = f"the {what} is not UTF-8 text ({where}); {advice}"
                raise Invalid(field, message, code=NOT_UTF8, values={"name": field})
