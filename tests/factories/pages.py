"""A paged list read to its end as a client reads it: each page's `next_cursor` passed back as `cursor`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any


def pages(read: Callable[[dict[str, str]], dict[str, Any]], query: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Each page's body, `read` with `query` and the cursor; the next page is read only once the caller asks for it,
    so a test can change what is listed between two pages."""
    page = read(dict(query))
    yield page
    while page["next_cursor"] is not None:
        page = read({**query, "cursor": page["next_cursor"]})
        yield page
