"""The lists of data-subject requests compliance works from, a page at a time: the open ones by deadline, and
how many a list holds over all its pages (a page of 200 must not read as all there are)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from recordings_service.customers import customer_reference, refuse_mistyped
from recordings_service.db import cursor_key, cursor_moment, id_cursor, key_cursor
from recordings_service.models import Customer, SubjectRequest
from recordings_service.privacy.subjects import deadline_clause, deadline_column

_Q = TypeVar("_Q", bound=Select[Any])
# The tag of the requests newest first's cursors (`id_cursor`): another list's id is no place in this one.
CURSOR_TAG = "subject_requests"


def open_requests_by_deadline(session: Session, *, cursor: str | None = None, limit: int) -> list[SubjectRequest]:
    """`limit` open requests with the nearest (extended) deadlines, the most overdue first; after the request
    `cursor` names (the last of the page before), when given.

    Chosen by deadline, not by registration: a request registered late (typed as received weeks ago) is among the
    most urgent, and the newest `limit` sorted by deadline left the oldest open ones off the page."""
    query = select(SubjectRequest).where(SubjectRequest.completed_at.is_(None))
    if cursor is not None:
        query = query.where(_after(cursor))
    return list(session.scalars(query.order_by(deadline_column(), SubjectRequest.id).limit(limit)))


def list_requests(
    session: Session,
    *,
    customer_ref: str | None = None,
    open_only: bool | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> list[SubjectRequest]:
    """Requests newest first (`open_only` False: answered ones only); `cursor`: this list's `next_cursor`.

    A `customer_ref` that registering a request refuses (another letter case than a known customer's, an invisible
    character) is refused here too, as `Invalid`: matched as typed, it listed none of the customer's requests, an
    empty list an officer reads as "they have made none"."""
    if customer_ref is not None:
        refuse_mistyped(session, customer_reference(customer_ref))
    query = _matching(select(SubjectRequest), customer_ref=customer_ref, open_only=open_only)
    if cursor:
        query = query.where(SubjectRequest.id < id_cursor(cursor, CURSOR_TAG))
    return list(session.scalars(query.order_by(SubjectRequest.id.desc()).limit(limit)))


def count_requests(session: Session, *, customer_ref: str | None = None, open_only: bool | None = None) -> int:
    """How many requests `list_requests` (and, `open_only`, `open_requests_by_deadline`) list over all their pages."""
    query = select(func.count(SubjectRequest.id)).select_from(SubjectRequest)
    return session.scalar(_matching(query, customer_ref=customer_ref, open_only=open_only)) or 0


def count_overdue_requests(session: Session, *, now: datetime) -> int:
    """How many open requests are past their (extended) deadline: all of them, where the dashboard shows the first."""
    query = select(func.count(SubjectRequest.id)).select_from(SubjectRequest).where(deadline_clause(now))
    return session.scalar(query) or 0


def _matching(query: _Q, *, customer_ref: str | None, open_only: bool | None) -> _Q:
    """`query` narrowed to a customer's requests and to open (or answered) ones, each when given."""
    if customer_ref is not None:
        query = query.join(Customer, SubjectRequest.customer_id == Customer.id).where(
            Customer.customer_ref == customer_reference(customer_ref)
        )
    if open_only is not None:
        done = SubjectRequest.completed_at.is_not(None)
        query = query.where(~done if open_only else done)
    return query


def request_cursor(request: SubjectRequest) -> str:
    """The cursor after `request` in the requests newest first (`list_requests`)."""
    return key_cursor(CURSOR_TAG, request.id)


def deadline_cursor(request: SubjectRequest) -> str:
    """The cursor after `request` in the open list: its deadline as the page showed it, and its id."""
    return key_cursor(request.deadline.isoformat(), request.id)


def _after(cursor: str) -> ColumnElement[bool]:
    """Requests after the place `cursor` names in the open list's order (deadline, then id). The place, not the
    request: its deadline extended meanwhile, it would take the page after it along."""
    (deadline_text,), last_id = cursor_key(cursor, 2)
    deadline = cursor_moment(deadline_text)
    return or_(deadline_column() > deadline, and_(deadline_column() == deadline, SubjectRequest.id > last_id))
