"""Requests carrying the NUL character (U+0000) are refused before a view sees them.

PostgreSQL text cannot hold NUL: such a value reached the database as a 500, while SQLite stored it. No name,
reference or query Callvault keeps has a use for it, so it is refused where the request still knows which input
it came in: a path naming one (an id, say) finds nothing (404); a query parameter, a form field or a string in a
JSON body is invalid (422 naming it, a JSON string by its dotted path). A query parameter or form field whose bytes
are not UTF-8 is refused in the same pass over the query and the form (`form_text.refuse_not_utf8`), and a JSON body
parsed for NUL whose bytes are not UTF-8 (`json_text`), as the API's validation refuses it. A field the
endpoint reads as a file part (`form_text.file_parts`) is no text: its view refuses it sent as a plain field. The
UI gets the error page, as for any domain error.

A view that must first look up what its address names (another institute's batch is 404, audited, whatever the form
holds) declares so with `form_checked_after_lookup` and calls `refuse_form_text` once it has: a partner's
confirmation of another institute's batch whose signer held NUL, or a byte that is not UTF-8, was answered 422 about
the form, unaudited, where every other such form got the 404 and its `research.partner_refused`.

A body that an upload endpoint (`allows_body`) streams to disk is left to it: reading its form here would
consume the stream the view parses. What such a body carries is refused by the database layer's own check.
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any

from flask import Flask, current_app, request

from recordings_service.db import NUL_CODE, NUL_REFUSED
from recordings_service.errors import Invalid, NotFound
from web import body_limit
from web.form_text import QUERY_ADVICE, View, refuse_not_utf8, shown_name, text_fields
from web.json_text import json_text

NUL = "\x00"
FORM_MIMETYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}
AFTER_LOOKUP = "callvault_form_checked_after_lookup"
# The only way a JSON text spells NUL (a raw control character is not JSON): a body without it needs no parse.
JSON_ESCAPE = b"\\u0000"


def init_app(app: Flask) -> None:
    app.before_request(refuse_nul)


def refuse_nul() -> None:
    if NUL in request.path:
        raise NotFound("nothing is found at an address containing the NUL character")
    parameters = list(request.args.items(multi=True))
    _refuse_in_pairs(parameters)
    refuse_not_utf8(parameters, what="query parameter", advice=QUERY_ADVICE)
    if request.mimetype in FORM_MIMETYPES and not _streams_its_body():
        if not getattr(_view(), AFTER_LOOKUP, False):
            refuse_form_text()
    elif request.is_json:
        body = request.get_data(cache=True)
        if JSON_ESCAPE in body:
            # Parsed here first, a body whose bytes are not UTF-8 is told so, as the API's validation tells it.
            _refuse_in_json(_parsed(json_text(body, charset=request.mimetype_params.get("charset"))))


def form_checked_after_lookup(view: View) -> View:
    """Declare that `view` calls `refuse_form_text` itself, once it has looked up what its address names."""
    setattr(view, AFTER_LOOKUP, True)
    return view


def refuse_form_text() -> None:
    """422 naming the first form field (not a file part) holding NUL or bytes that are not UTF-8."""
    if request.mimetype not in FORM_MIMETYPES:
        return
    pairs = text_fields(request.form.items(multi=True), view=_view())
    _refuse_in_pairs(pairs)
    refuse_not_utf8(pairs)


def _view() -> Any:
    return current_app.view_functions.get(request.endpoint) if request.endpoint else None


def _streams_its_body() -> bool:
    return getattr(_view(), body_limit.ATTRIBUTE, None) is not None


def _refuse_in_pairs(pairs: Any) -> None:
    for name, value in pairs:
        # A malformed multipart part may come without a name or a value (the fuzzer sends such): nothing to refuse.
        if any(isinstance(text, str) and NUL in text for text in (name, value)):
            # A byte that is not UTF-8 beside the NUL (kept by `form_text` as sent) is quoted as U+FFFD.
            raise Invalid(shown_name(_shown(name)), NUL_REFUSED, code=NUL_CODE)


def _parsed(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None  # not JSON: the API's validation says so


def _refuse_in_json(document: Any) -> None:
    # A queue, not recursion: the parser accepts nesting as deep as the recursion limit allows.
    pending: deque[tuple[str, Any]] = deque([("", document)])
    while pending:
        path, value = pending.popleft()
        if isinstance(value, str) and NUL in value:
            raise Invalid(path or "body", NUL_REFUSED, code=NUL_CODE)
        if isinstance(value, dict):
            for key, item in value.items():
                field = f"{path}.{_shown(key)}" if path else _shown(key)
                if NUL in key:
                    raise Invalid(field, NUL_REFUSED, code=NUL_CODE)
                pending.append((field, item))
        elif isinstance(value, list):
            pending.extend((f"{path}.{index}" if path else str(index), item) for index, item in enumerate(value))


def _shown(name: str) -> str:
    """A name as an error may quote it: its NUL written out."""
    return name.replace(NUL, "\\u0000")
