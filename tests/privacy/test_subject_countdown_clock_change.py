"""A request's countdown counts calendar days where the organisation is, across the clock changes too.

Counted in UTC, the spring change (a day of 23 hours) made a request typed as received on 1 March, due by the end
of 1 April in Helsinki, show a day too few at 23:30 on 28 March, when 29, 30 and 31 March and 1 April were left;
across the autumn change the countdown was a day long instead.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from recordings_service.privacy import subjects
from tests.factories.privacy import OFFICER, customer

HELSINKI = ZoneInfo("Europe/Helsinki")


@pytest.mark.parametrize(
    ("received", "now", "left"),
    [
        (datetime(2026, 3, 1), datetime(2026, 3, 28, 23, 30), 4),  # due 1 April; clocks go forward on 29 March
        (datetime(2026, 3, 1), datetime(2026, 3, 31, 23, 30), 1),
        (datetime(2026, 3, 1), datetime(2026, 4, 1, 23, 30), 0),  # due today
        (datetime(2026, 10, 1), datetime(2026, 10, 25, 0, 30), 7),  # due 1 November; clocks go back on 25 October
    ],
)
def test_the_days_left_are_calendar_days_in_the_organisations_zone(
    session: Session, received: datetime, now: datetime, left: int
) -> None:
    at = received.replace(tzinfo=HELSINKI)
    request = subjects.create_request(
        session,
        actor=OFFICER,
        customer_ref=customer(session).customer_ref,
        kind="objection",
        received_at=at,
        zone=HELSINKI,
        now=at,
    )

    moment = now.replace(tzinfo=HELSINKI).astimezone(UTC)  # as the clock tells it, in UTC
    assert subjects.days_left(request, now=moment, zone=HELSINKI) == left
