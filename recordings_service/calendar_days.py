"""Call dates as days of a time zone's calendar: criteria name days (`from`, `to`) and the zone they are days of.

The pages pass the organisation's zone, as they show every time in it; the JSON API's criteria without a zone
name UTC days, as they always did. Research selection and training samples share these.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from functools import cache
from typing import Annotated
from zoneinfo import ZoneInfo, available_timezones

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

# The zone of criteria that name none: the API's days were UTC's before it could name one.
DEFAULT_ZONE = "UTC"


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _known_zone(name: str) -> str:
    # Checked against the zone database's names, not by opening the name: it is a caller's text, not a path.
    if name not in _known_zones():
        raise PydanticCustomError("unknown_timezone", "not a time zone name such as Europe/Helsinki or UTC")
    return name


# An IANA time zone's name as input (Europe/Helsinki, UTC), refused naming its field when the zone is unknown.
TimeZoneName = Annotated[
    str,
    Field(max_length=64, description="IANA time zone whose days `from` and `to` are, e.g. Europe/Helsinki"),
    AfterValidator(_known_zone),
]


def day_start(day: date, zone: str) -> datetime | None:
    """00:00 of `day` in `zone`, as a UTC time; None when that lies before the first moment a datetime can hold
    (a zone ahead of UTC on 1 January of year 1), so no call is older."""
    try:
        return datetime.combine(day, time(), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    except OverflowError:
        return None
