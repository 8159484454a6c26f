"""A request may be answered all through its last day, where the organisation is (Art. 12(3), with Regulation
1182/71 Art. 3(2)(c): a period of months ends when the day of the same date ends). The deadline was the start of that
day: a request received on 1 March was overdue, on the dashboard and in the API, from the first minute of 1 April, and
could no longer be extended on it."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from recordings_service.models import SubjectRequest
from recordings_service.privacy import subjects
from tests.factories.privacy import OFFICER, customer

HELSINKI = ZoneInfo("Europe/Helsinki")


def helsinki(*moment: int) -> datetime:
    return datetime(*moment, tzinfo=HELSINKI).astimezone(UTC)  # type: ignore[misc]


def received_on(session: Session, kind: str, *day: int) -> SubjectRequest:
    received = helsinki(*day)
    customer_ref = customer(session).customer_ref
    return subjects.create_request(
        session, actor=OFFICER, customer_ref=customer_ref, kind=kind, received_at=received, zone=HELSINKI, now=received
    )


def test_the_last_day_is_a_day_to_answer_in(session: Session) -> None:
    request = received_on(session, "access", 2026, 3, 1)

    assert subjects.days_left(request, now=helsinki(2026, 4, 1, 9, 0), zone=HELSINKI) == 0
    assert request not in subjects.overdue_requests(session, now=helsinki(2026, 4, 1, 23, 59))
    assert request in subjects.overdue_requests(session, now=helsinki(2026, 4, 2, 0, 0))
    assert subjects.days_left(request, now=helsinki(2026, 4, 2, 9, 0), zone=HELSINKI) == -1


def test_an_extension_may_be_decided_on_the_last_day_and_runs_to_the_end_of_its_own(session: Session) -> None:
    request = received_on(session, "erasure", 2026, 1, 31)

    extended = subjects.extend_request(
        session,
        actor=OFFICER,
        request_id=request.id,
        months=2,
        reason="many calls",
        zone=HELSINKI,
        now=helsinki(2026, 2, 28, 16, 0),  # the last day of the first month
    )

    assert extended.extended_until == helsinki(2026, 4, 30, 23, 59, 59, 999999)
    assert request not in subjects.overdue_requests(session, now=helsinki(2026, 4, 30, 23, 59))
    assert request in subjects.overdue_requests(session, now=helsinki(2026, 5, 1, 0, 0))
