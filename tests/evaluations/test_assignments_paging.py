"""Every assignment can be reached on the pages: the lists of `/assignments` go a page at a time, and the dashboard's
overdue list says how many there are and leads to all of them.

Found by review: a supervisor's list showed its first 200 assignments and the dashboard's overdue list its first 20,
with no way on; the rest were on no page. A page link edited or out of date is refused (422, the refusal leading to
the list's first page), as the call list refuses one."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.config import Settings
from recordings_service.evaluations import assignments
from recordings_service.models import User
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.evaluations import actor_of
from tests.factories.recordings import make_recording
from web.ui import assignments as assignment_pages

PAGE_LINK_BROKEN = "This link to a further page of the list is not valid"


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    # Lists of a few rows page as lists of hundreds do. (raising=False: the lists had no pages before.)
    monkeypatch.setattr(assignment_pages, "PAGE_SIZE", 2, raising=False)
    monkeypatch.setattr(assignment_pages, "DASHBOARD_ROWS", 2)


def assigned(
    session: Session, store: ObjectStore, envelope: Envelope, *, to: User, by: User, dues: list[int], today: datetime
) -> list[str]:
    """Calls on `to`'s list, due `dues` days from `today` (negative: overdue), in the order the list shows them."""
    calls = []
    for days in dues:
        call = make_recording(session, store, envelope)
        assignments.assign_calls(
            session,
            actor=actor_of(by),
            recording_ids=[call.id],
            assignee_id=to.id,
            today=today.date() - timedelta(days=30),
            due=today.date() + timedelta(days=days),
        )
        calls.append((days, call.id))
    return [call_id for _, call_id in sorted(calls)]


def section(page: str, heading_id: str) -> str:
    match = re.search(rf'<section aria-labelledby="{heading_id}".*?</section>', page, re.S)
    assert match, heading_id
    return match.group(0)


def walk(client: FlaskClient, start: str, heading_id: str) -> list[list[str]]:
    """The calls of one list, page by page, following its "Next page" links from `start`."""
    pages, url = [], start
    while url:
        response = client.get(url)
        assert response.status_code == 200, url
        listed = section(response.get_data(as_text=True), heading_id)
        pages.append(re.findall(r'href="/calls/(\w+)"', listed))
        found = re.search(r'<a href="([^"]+)" rel="next">Next page</a>', listed)
        url = html.unescape(found.group(1)) if found else ""
    return pages


@pytest.fixture
def today(settings: Settings) -> datetime:
    return datetime.now(ZoneInfo(settings.timezone))


def test_my_list_and_a_supervisors_list_go_a_page_at_a_time_to_their_last_assignment(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope, today: datetime
) -> None:
    lead, absent = make_user(session, username="lead"), make_user(session, username="absent")
    mine = assigned(session, store, envelope, to=lead, by=lead, dues=[3, -1, 5], today=today)
    theirs = assigned(session, store, envelope, to=absent, by=lead, dues=[1, -4, 2, -2, 9], today=today)
    session.commit()
    login(client, lead)

    assert walk(client, "/assignments", "mine-heading") == [mine[:2], mine[2:]]
    held = walk(client, f"/assignments?assignee={absent.id}", "held-heading")
    assert held == [theirs[:2], theirs[2:4], theirs[4:]]
    first = client.get(f"/assignments?assignee={absent.id}").get_data(as_text=True)
    assert "5 open assignments." in section(first, "held-heading")
    # Paging one list keeps the other where it is, and who was chosen.
    second = re.search(r'<a href="([^"]+)" rel="next">', section(first, "held-heading"))
    assert second and f"assignee={absent.id}" in html.unescape(second.group(1))


def test_the_dashboard_counts_the_overdue_and_leads_to_all_of_them_to_hand_on(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope, today: datetime
) -> None:
    lead, maija, pekka = (make_user(session, username=name) for name in ("lead", "maija", "pekka"))
    late = assigned(session, store, envelope, to=maija, by=lead, dues=[-9, -3, 4], today=today)[:2]
    late += assigned(session, store, envelope, to=pekka, by=lead, dues=[-7, -5, -1], today=today)
    session.commit()
    login(client, lead)

    overdue = section(client.get("/dashboard").get_data(as_text=True), "overdue-assignments-heading")
    said = " ".join(re.sub(r"<[^>]+>", " ", overdue).split())
    assert "5 overdue assignments. The 2 longest overdue are shown here." in said
    link = re.search(r'<a href="([^"]+)">All overdue assignments, to hand on</a>', overdue)
    assert link and html.unescape(link.group(1)) == "/assignments?overdue=1#held-heading"

    longest_first = [call for _, call in sorted(zip([-9, -3, -7, -5, -1], late, strict=True))]
    assert walk(client, "/assignments?overdue=1", "held-heading") == [
        longest_first[:2],
        longest_first[2:4],
        longest_first[4:],
    ]
    everyone = section(client.get("/assignments?overdue=1").get_data(as_text=True), "held-heading")
    assert "<td>maija</td>" in everyone and "<td>pekka</td>" in everyone and everyone.count("/reassign") == 2


@pytest.mark.parametrize(
    ("param", "key"),
    [("cursor", "mine"), ("held_cursor", "held")],
)
@pytest.mark.parametrize("cursor", ["garbage", "01JZZZZZZZZZZZZZZZZZZZZZZZ"], ids=["edited", "no-such-assignment"])
def test_an_edited_page_link_is_refused_and_leads_to_the_lists_first_page(
    client: FlaskClient, session: Session, param: str, key: str, cursor: str
) -> None:
    lead, absent = make_user(session, username="lead"), make_user(session, username="absent")
    session.commit()
    login(client, lead)

    response = client.get("/assignments", query_string={"assignee": absent.id, param: cursor})

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    refusal = page.split(f'id="{key}-page-error"', 1)[1].split("</p>", 1)[0]
    assert f'<a href="#{key}-pager">Page</a>: {PAGE_LINK_BROKEN}' in refusal
    pager = page.split(f'id="{key}-pager"', 1)[1].split("</nav>", 1)[0]
    assert f'aria-describedby="{key}-page-error"' in pager.split(">", 1)[0]
    assert f'<a href="/assignments?assignee={absent.id}">First page of the list</a>' in pager
