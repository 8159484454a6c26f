"""A date given as not in the future (an agreement, a safeguard, a return or destruction) is refused once it is
later than today on every calendar, from UTC-12 to UTC+14."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from recordings_service.errors import Invalid
from recordings_service.research import dates


@pytest.mark.parametrize(
    "now, tomorrow_allowed",
    [
        (datetime(2026, 12, 4, 4, 56, tzinfo=UTC), False),  # 6.56 in Helsinki, 18.56 at UTC+14: still the 4th
        (datetime(2026, 12, 4, 9, 59, tzinfo=UTC), False),
        (datetime(2026, 12, 4, 10, 0, tzinfo=UTC), True),  # midnight at UTC+14: the 5th has begun there
    ],
)
def test_tomorrow_is_refused_until_it_has_begun_somewhere(
    monkeypatch: pytest.MonkeyPatch, now: datetime, tomorrow_allowed: bool
) -> None:
    """UTC's today plus a day was allowed at any hour: an agreement 'signed' tomorrow, on no calendar yet, passed."""
    monkeypatch.setattr(dates, "utcnow", lambda: now)
    dates.check_not_future("date", date(2026, 12, 4), message="future")
    if tomorrow_allowed:
        dates.check_not_future("date", date(2026, 12, 5), message="future")
    else:
        with pytest.raises(Invalid):
            dates.check_not_future("date", date(2026, 12, 5), message="future")
    with pytest.raises(Invalid):
        dates.check_not_future("date", date(2026, 12, 6), message="future")
