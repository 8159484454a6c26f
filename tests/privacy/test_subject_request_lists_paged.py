"""The requests page's lists come a page at a time and say how many requests they hold.

Found acting as a compliance officer with a backlog: the open requests stopped at 200, with nothing to say that more
were open (nor a way to them), and so did a customer's own requests."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.privacy import SubjectRequest
from recordings_service.privacy import subjects
from recordings_service.recordings import MAX_PAGE
from tests.factories.privacy import customer

LINK = re.compile(r'/subjects/(\w{26})"')
NEXT = re.compile(r'href="([^"]+)" rel="next"')


def requests_of(session: Session, customer_id: str, count: int, *, received: datetime) -> list[SubjectRequest]:
    rows = [
        SubjectRequest(
            customer_id=customer_id,
            kind="objection",
            received_at=received - timedelta(minutes=n),
            due_at=subjects.due_date(received - timedelta(minutes=n)),
            outcome={},
        )
        for n in range(count)
    ]
    session.add_all(rows)
    session.commit()
    return rows


def walk(client: FlaskClient, url: str) -> tuple[list[str], list[str]]:
    """Every request linked from the list's pages, and each page's text, following the next-page links."""
    seen: list[str] = []
    pages: list[str] = []
    while True:
        response = client.get(url.replace("&amp;", "&"))
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        pages.append(page)
        seen.extend(LINK.findall(page))
        following = NEXT.search(page)
        if following is None:
            return seen, pages
        url = following.group(1)


def test_the_open_requests_come_a_page_at_a_time_with_their_count(
    officer_client: FlaskClient, session: Session
) -> None:
    rows = requests_of(session, customer(session).id, MAX_PAGE + 2, received=datetime.now(UTC))

    seen, pages = walk(officer_client, "/subjects/")

    assert f"{MAX_PAGE + 2} open requests, nearest deadline first" in pages[0]
    assert len(pages) == 2 and "First page of the list" in pages[1]
    assert sorted(seen) == sorted(row.id for row in rows)  # every one once, none twice


def test_a_customers_requests_come_a_page_at_a_time_with_their_count(
    officer_client: FlaskClient, session: Session
) -> None:
    person = customer(session)
    rows = requests_of(session, person.id, MAX_PAGE + 1, received=datetime.now(UTC))
    for row in rows[:5]:
        row.completed_at = datetime.now(UTC)  # answered ones are the customer's requests too
    session.commit()

    seen, pages = walk(officer_client, f"/subjects/?customer_ref={person.customer_ref}")

    assert f"{MAX_PAGE + 1} requests of this customer, newest first" in pages[0]
    assert len(pages) == 2
    assert sorted(seen) == sorted(row.id for row in rows)


def test_an_edited_page_link_is_refused_not_read_as_the_first_page(
    officer_client: FlaskClient, session: Session
) -> None:
    requests_of(session, customer(session).id, 1, received=datetime.now(UTC))

    response = officer_client.get("/subjects/?cursor=not-a-cursor")

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="listed-page-error"' in page and "First page of the list" in page
    assert not LINK.search(page.split('id="listed-heading"', 1)[1])
