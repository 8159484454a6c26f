"""Links through a page whose lists page by cursor (/assignments, /research/, /partner/): each list's own cursor
parameter moves, the others stay where they are."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import request, url_for


def page_url(endpoint: str) -> Callable[[str, str | None], str]:
    """Links to this page with list `param` at `cursor` (its first page for None), any other list where it is."""

    def url(param: str, cursor: str | None) -> str:
        query: dict[str, Any] = {name: value for name, value in request.args.items() if value and name != param}
        if cursor:
            query[param] = cursor
        return url_for(endpoint, **query)

    return url
