"""A page of research batches as the compliance and partner pages show it, a page at a time by cursor as the call
list and /assignments page: a next-page link, a first-page link, and a page link edited or out of date refused
(422, the refusal leading to the pager) rather than read as the first page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import request, url_for

from recordings_service.errors import Invalid
from recordings_service.models import ResearchBatch
from web.api.validation import next_id_cursor
from web.ui.error_messages import error_message

# Reads `limit` batches, newest first, after `cursor` (None: from the newest).
Reader = Callable[[str | None, int], list[ResearchBatch]]


@dataclass(frozen=True)
class BatchPage:
    """The batches of one page and the cursor of the next; or, for a page link refused, why."""

    batches: list[ResearchBatch] = field(default_factory=list)
    next_cursor: str | None = None
    refused: str | None = None


def batch_page(read: Reader, *, param: str, size: int) -> BatchPage:
    """The page the request's cursor `param` names (the first without one)."""
    try:
        rows = read(request.args.get(param) or None, size + 1)
    except Invalid as exc:
        return BatchPage(refused=error_message(exc))
    return BatchPage(rows[:size], next_id_cursor(rows, size))


def page_url(endpoint: str) -> Callable[[str, str | None], str]:
    """Links to this page with list `param` at `cursor` (its first page for None), any other list where it is."""

    def url(param: str, cursor: str | None) -> str:
        query: dict[str, Any] = {name: value for name, value in request.args.items() if value and name != param}
        if cursor:
            query[param] = cursor
        return url_for(endpoint, **query)

    return url
