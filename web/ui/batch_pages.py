"""A page of research batches as the compliance and partner pages show it, a page at a time by cursor as the call
list and /assignments page: a next-page link, a first-page link, and a page link edited or out of date refused
(422, the refusal leading to the pager) rather than read as the first page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import request

from recordings_service.errors import Invalid
from recordings_service.models import ResearchBatch
from recordings_service.research import batches
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
    return BatchPage(rows[:size], next_id_cursor(rows, size, batches.CURSOR_TAG))
