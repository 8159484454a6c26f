"""Paging of the feeds a sync job keeps its copy by (`deletion_feed`, `withheld_feed`): rows in a window of moments,
oldest first, the recording's id breaking ties, each page's cursor naming its last row by its moment and id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from recordings_service.db import cursor_moment, key_cursor, tagged_key
from recordings_service.errors import Invalid
from recordings_service.recordings import MAX_PAGE


def feed_page(
    session: Session,
    query: Select[*tuple[Any, ...]],
    *,
    moment: InstrumentedAttribute[datetime] | InstrumentedAttribute[datetime | None],
    row_id: InstrumentedAttribute[str],
    window: tuple[datetime | None, datetime | None],
    cursor: str | None,
    tag: str,
    limit: int,
) -> tuple[list[Row[*tuple[Any, ...]]], str | None]:
    """The page of `query`'s rows (whose first two columns are `row_id` and `moment`) with `moment` in `window` (start
    inclusive, end exclusive) after `cursor`, and the next page's cursor (None on the last), marked with the feed's
    `tag` (`tagged_key`)."""
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid("limit", f"must be between 1 and {MAX_PAGE}", code="out_of_range")
    start, end = window
    if start is not None:
        query = query.where(moment >= start)
    if end is not None:
        query = query.where(moment < end)
    if cursor:
        (last_moment,), last_id = tagged_key(cursor, tag, 2)
        after = cursor_moment(last_moment)
        query = query.where(or_(moment > after, and_(moment == after, row_id > last_id)))
    rows = list(session.execute(query.order_by(moment, row_id).limit(limit + 1)).all())
    if len(rows) <= limit:
        return rows, None
    last_row_id, last_row_moment = rows[limit - 1][0], rows[limit - 1][1]
    return rows[:limit], key_cursor(tag, last_row_moment.isoformat(), last_row_id)
