"""Found by exploratory testing: the call list refused a search of only punctuation or wildcards ('*', '"', '(')
with the core's English 'enter at least one word' on the Finnish page too, and a words box over its limit, a
next-page link edited or out of date, or a transcription status or direction not offered, with English (the
latter two with pydantic's 'Input should be ...' beside the raw field name). Each is now said in the reader's
language beside the field it names, with what was typed kept."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from tests.factories.accounts import login, make_user
from tests.page_text import visible_text
from tests.web.reader_language import ENGLISH, FINNISH


@pytest.fixture
def supervisor_client(client: FlaskClient, session: Session) -> FlaskClient:
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    return client


def refusal(client: FlaskClient, query: dict[str, str], headers: dict[str, str]) -> str:
    """The call list's refusal of `query`, as visible text."""
    response = client.get("/calls/", query_string=query, headers=headers)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    start = html.index('id="filter-error"')
    said = " ".join(visible_text(html[html.rindex("<p", 0, start) : html.index("</p>", start) + 4]).split())
    return said.replace(" :", ":")


@pytest.mark.parametrize("typed", ["*", '"', "( )", "%"])
def test_a_search_of_only_punctuation_or_wildcards_says_what_a_word_is(
    supervisor_client: FlaskClient, typed: str
) -> None:
    said = refusal(supervisor_client, {"q": typed}, ENGLISH)
    assert (
        said == "Words said in the call: enter at least one word: letters or digits, not only punctuation or wildcards"
    )
    page = supervisor_client.get("/calls/", query_string={"q": typed}).get_data(as_text=True)
    assert 'aria-invalid="true"' in page.split('id="q"', 1)[1].split(">", 1)[0]


def test_an_overlong_search_is_refused_in_finnish(supervisor_client: FlaskClient) -> None:
    said = refusal(supervisor_client, {"q": "sähkö " * 40}, FINNISH)
    assert said == "Puhelussa sanotut sanat: enintään 200 merkkiä"


@pytest.mark.parametrize("cursor", ["garbage", "AAAA"])
def test_an_edited_next_page_link_is_refused_in_finnish(supervisor_client: FlaskClient, cursor: str) -> None:
    said = refusal(supervisor_client, {"cursor": cursor}, FINNISH)
    assert said.startswith("Sivu: Linkki luettelon seuraavalle sivulle ei kelpaa")
    assert "cursor" not in said


def test_a_cursor_on_another_order_is_refused_in_finnish(supervisor_client: FlaskClient) -> None:
    said = refusal(supervisor_client, {"sort": "duration", "dir": "asc", "cursor": "x"}, FINNISH)
    assert said.startswith("Sivu: Linkki luettelon seuraavalle sivulle ei kelpaa")


@pytest.mark.parametrize(
    ("field", "label"), [("status", "Litteroinnin tila"), ("direction", "Suunta")], ids=["status", "direction"]
)
def test_a_choice_not_offered_is_refused_in_finnish_naming_its_label(
    supervisor_client: FlaskClient, field: str, label: str
) -> None:
    said = refusal(supervisor_client, {field: "sideways"}, FINNISH)
    assert said == f"{label}: valitse jokin tarjotuista vaihtoehdoista"
