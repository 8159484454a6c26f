"""Dates a person gives (of an agreement, clauses, a return or destruction): none after today."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from recordings_service.db import utcnow
from recordings_service.errors import Invalid

# The calendar furthest ahead of UTC's (UTC+14): a later date than its today is in the future everywhere.
AHEAD_OF_UTC = timedelta(hours=14)
# The calendar furthest behind UTC's (UTC−12): an earlier date than its date of a moment is before it everywhere.
BEHIND_UTC = timedelta(hours=12)


def earliest_date(moment: datetime) -> date:
    """The earliest calendar date anywhere at `moment` (UTC−12's): a signer's date before it is before the moment
    wherever they are. A day of slack let a date up to 36 hours before the moment through."""
    return (moment - BEHIND_UTC).date()


def check_not_future(name: str, value: date, *, message: str, why: str | None = None) -> None:
    if value > (utcnow() + AHEAD_OF_UTC).date():
        raise Invalid(name, message, code="in_future", why=why)
