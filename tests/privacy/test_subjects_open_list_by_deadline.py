"""The requests page lists the open requests with the nearest deadlines, the most overdue first, however many are open.

Found acting as a compliance officer with a backlog: the page took the 200 requests registered last and sorted those
by deadline, so with more open an overdue request registered earlier was not on the page at all, while its caption
said "nearest deadline first".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.privacy import SubjectRequest
from recordings_service.privacy import subjects
from recordings_service.recordings import MAX_PAGE
from tests.factories.privacy import OFFICER, customer


def test_an_overdue_request_heads_the_page_behind_a_page_of_newer_ones(
    officer_client: FlaskClient, session: Session
) -> None:
    now = datetime.now(UTC)
    person = customer(session)
    overdue = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="erasure", received_at=now - timedelta(days=40)
    )
    later = [
        SubjectRequest(
            customer_id=person.id,
            kind="objection",
            received_at=now,
            due_at=subjects.due_date(now),
            outcome={},
        )
        for _ in range(MAX_PAGE)
    ]
    session.add_all(later)
    session.commit()

    page = officer_client.get("/subjects/").get_data(as_text=True)

    assert f"/subjects/{overdue.id}" in page
    assert page.index(f"/subjects/{overdue.id}") < page.index(f"/subjects/{later[0].id}")
