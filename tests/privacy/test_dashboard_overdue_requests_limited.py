"""The compliance officer's dashboard shows the 20 longest overdue data-subject requests, says how many are overdue in
all, and links to the requests page for the rest.

Found acting as a compliance officer with a backlog: the dashboard listed every overdue request, so it grew without
bound, as the overdue QA assignments' list did before it was limited the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.privacy import SubjectRequest
from recordings_service.privacy import subjects
from tests.factories.privacy import OFFICER, customer


def overdue(session: Session, *, count: int, now: datetime) -> list[SubjectRequest]:
    """`count` open requests past their deadline, the longest overdue first (received 40, 41, … days ago, reversed)."""
    ref = customer(session).customer_ref
    made = [
        subjects.create_request(
            session, actor=OFFICER, customer_ref=ref, kind="erasure", received_at=now - timedelta(days=40 + days)
        )
        for days in range(count)
    ]
    return made[::-1]


def test_the_dashboard_shows_the_20_longest_overdue_requests_counts_all_and_links_to_the_rest(
    officer_client: FlaskClient, session: Session
) -> None:
    now = datetime.now(UTC)
    late = overdue(session, count=22, now=now)
    ref = customer(session).customer_ref
    not_due = subjects.create_request(session, actor=OFFICER, customer_ref=ref, kind="objection", received_at=now)
    answered = subjects.create_request(
        session, actor=OFFICER, customer_ref=ref, kind="objection", received_at=now - timedelta(days=100)
    )
    subjects.record_objection(session, actor=OFFICER, request_id=answered.id, research=True, marketing=None, now=now)
    session.commit()

    page = officer_client.get("/dashboard").get_data(as_text=True)

    shown = [request for request in late if f"/subjects/{request.id}" in page]
    assert shown == late[:20], "the 20 longest overdue, and only they"
    assert [page.index(f"/subjects/{request.id}") for request in shown] == sorted(
        page.index(f"/subjects/{request.id}") for request in shown
    ), "the longest overdue first"
    assert f"/subjects/{not_due.id}" not in page and f"/subjects/{answered.id}" not in page
    assert "22 overdue data-subject requests." in page
    assert "The 20 longest overdue are shown here." in page
    assert 'href="/subjects/#listed-heading"' in page


def test_a_few_overdue_requests_are_all_shown_without_a_link(officer_client: FlaskClient, session: Session) -> None:
    late = overdue(session, count=2, now=datetime.now(UTC))
    session.commit()

    page = officer_client.get("/dashboard").get_data(as_text=True)

    assert all(f"/subjects/{request.id}" in page for request in late)
    assert "2 overdue data-subject requests." in page
    assert "longest overdue are shown here" not in page and "/subjects/#listed-heading" not in page
