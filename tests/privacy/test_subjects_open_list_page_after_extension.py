"""The open requests page on from where the last page ended, whatever became of that page's last request. Found by
exploratory testing of the assignments' lists, which paged the same way: the cursor named the last request, and the
next page began after wherever its deadline stood now, so a request extended by two months meanwhile took every
request due in those two months off the pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from recordings_service.privacy import request_lists, subjects
from tests.factories.privacy import OFFICER, ORG_ZONE, customer


def test_the_next_page_follows_the_last_shown_request_after_its_deadline_is_extended(session: Session) -> None:
    now = datetime.now(UTC)
    person = customer(session)
    first, second, third = (
        subjects.create_request(
            session,
            actor=OFFICER,
            customer_ref=person.customer_ref,
            kind="objection",
            received_at=now - timedelta(days=days),
        )
        for days in (3, 2, 1)
    )
    session.flush()
    cursor = request_lists.deadline_cursor(first)

    subjects.extend_request(session, actor=OFFICER, request_id=first.id, months=2, reason="complex case", zone=ORG_ZONE)
    session.flush()

    following = request_lists.open_requests_by_deadline(session, cursor=cursor, limit=200)
    assert [request.id for request in following][:2] == [second.id, third.id]
    assert first.id in [request.id for request in following]  # now due later: further on, not lost
