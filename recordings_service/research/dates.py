"""Dates a person gives (of an agreement, clauses, a return or destruction): none after today."""

from __future__ import annotations

from datetime import date, timedelta

from recordings_service.db import utcnow
from recordings_service.errors import Invalid

# Given on the signer's calendar, which may be a day ahead of or behind UTC's.
CALENDAR_SLACK = timedelta(days=1)
# The calendar furthest ahead of UTC's (UTC+14): a later date than its today is in the future everywhere.
AHEAD_OF_UTC = timedelta(hours=14)


def check_not_future(name: str, value: date, *, message: str, why: str | None = None) -> None:
    if value > (utcnow() + AHEAD_OF_UTC).date():
        raise Invalid(name, message, code="in_future", why=why)
