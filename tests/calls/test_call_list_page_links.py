"""The call list's refusals of its own links and of a search over the most kept.

Found by review: an edited `offset` (`abc`, `-1`) showed the first page without a word, where an edited cursor is
refused; a refused page link's "Page" led to `#cursor`, `#before` or `#offset`, which no element of the page has,
so a screen reader landed nowhere; and saving a search beyond the most kept answered an English 409 page instead
of the list with the refusal, as the page's other refusals do."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.calls import saved_searches
from recordings_service.models import SavedSearch
from recordings_service.models.account import Role
from tests.factories.accounts import login, make_user
from tests.factories.evaluations import actor_of
from tests.page_text import visible_text
from tests.web.reader_language import ENGLISH, FINNISH, post_as

PAGE_LINK_BROKEN = "This link to a further page of the list is not valid"


@pytest.fixture
def supervisor_client(client: FlaskClient, session: Session) -> FlaskClient:
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    return client


@pytest.mark.parametrize("offset", ["abc", "-1", "1.5", "²"])
def test_an_edited_offset_is_refused_as_an_edited_cursor_is(supervisor_client: FlaskClient, offset: str) -> None:
    query = {"sort": "duration", "dir": "asc", "offset": offset}
    response = supervisor_client.get("/calls/", query_string=query, headers=FINNISH)
    assert response.status_code == 422
    said = " ".join(visible_text(response.get_data(as_text=True)).split())
    assert "Sivu : Linkki luettelon seuraavalle sivulle ei kelpaa" in said


@pytest.mark.parametrize(
    "query",
    [{"cursor": "garbage"}, {"before": "garbage"}, {"sort": "duration", "offset": "abc"}],
    ids=["cursor", "before", "offset"],
)
def test_a_refused_page_link_leads_to_the_pager_which_offers_the_first_page(
    supervisor_client: FlaskClient, query: dict[str, str]
) -> None:
    response = supervisor_client.get("/calls/", query_string={**query, "queue": "billing"}, headers=ENGLISH)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    refusal = html.split('id="filter-error"', 1)[1].split("</p>", 1)[0]
    assert '<a href="#pager">Page</a>: ' + PAGE_LINK_BROKEN in refusal
    pager = html.split('id="pager"', 1)[1].split("</nav>", 1)[0]
    assert 'aria-describedby="filter-error"' in pager.split(">", 1)[0]
    first_page = (
        "/calls/?queue=billing&amp;sort=duration&amp;dir=desc" if "offset" in query else "/calls/?queue=billing"
    )
    assert f'<a href="{first_page}">First page of the list</a>' in pager


def test_a_search_beyond_the_most_kept_is_refused_on_the_list(client: FlaskClient, session: Session) -> None:
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    session.add_all(
        SavedSearch(owner_id=supervisor.id, name=f"search {number}", query=f"tag=t{number}")
        for number in range(saved_searches.MAX_PER_USER)
    )
    session.flush()
    login(client, supervisor)
    data = {"name": "one more", "back": "queue=billing&offset=50&sort=duration"}
    response = post_as(client, "/calls/saved-searches", data, token_from="/calls/", headers=ENGLISH)
    assert response.status_code == 302
    assert response.headers["Location"] == "/calls/?queue=billing&offset=50&sort=duration"
    page = client.get(response.headers["Location"], headers=ENGLISH).get_data(as_text=True)
    assert (
        '<p class="flash error" role="status">Search not saved: you have 100 saved searches, the most kept.'
        " Delete one first.</p>" in page
    )
    assert len(saved_searches.saved_searches(session, actor=actor_of(supervisor))) == saved_searches.MAX_PER_USER
