"""The form builder: any number of questions per section, and a bad weight names its question."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import EvaluationForm
from recordings_service.models.account import Role
from tests.factories.accounts import login, make_user, post_form
from tests.page_text import visible_text
from tests.web.reader_language import FINNISH, post_as


@pytest.fixture
def qa(client: FlaskClient, session: Session) -> FlaskClient:
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    return client


def rows_of(page: str, section: int) -> int:
    return len(re.findall(rf'name="sections\[{section}\]\.questions\[\d+\]\.text"', page))


def test_a_bad_weight_names_its_section_and_question(qa: FlaskClient) -> None:
    fields = {
        "name": "Weights",
        "sections[0].title": "Opening",
        "sections[0].questions[0].text": "Greeting",
        "sections[0].questions[1].text": "Name",
        "sections[0].questions[2].text": "Purpose",
        "sections[0].questions[2].weight": "150",
    }
    response = post_form(qa, "/forms/new", fields, token_from="/forms/new")
    assert response.status_code == 422
    assert "Section 1, question 3: a weight is above 0 and at most 100" in response.get_data(as_text=True)


def test_add_a_question_keeps_what_was_typed_and_adds_rows_without_end(qa: FlaskClient, session: Session) -> None:
    fields = {"name": "Long form", "sections[0].title": "Opening"}
    fields |= {f"sections[0].questions[{index}].text": f"Question {index}" for index in range(4)}
    page = qa.get("/forms/new").get_data(as_text=True)
    assert 'name="add_question" value="0"' in page
    for _ in range(3):
        blank = re.search(r'name="sections\[0\]\.blank_rows" value="(\d+)"', page)
        assert blank is not None
        response = post_form(
            qa,
            "/forms/new",
            {**fields, "sections[0].blank_rows": blank[1], "add_question": "0"},
            token_from="/forms/new",
        )
        assert response.status_code == 200  # nothing saved yet: the builder again, with one row more
        page = response.get_data(as_text=True)
        assert 'value="Question 3"' in page and 'value="Long form"' in page
    assert rows_of(page, 0) == 4 + 3 + 3  # the typed questions, the new section's three blank rows, three added
    assert session.scalars(select(EvaluationForm)).first() is None

    fields |= {f"sections[0].questions[{index}].text": f"Question {index}" for index in range(4, 10)}
    saved = post_form(qa, "/forms/new", fields, token_from="/forms/new")
    assert saved.status_code == 302
    form = session.scalars(select(EvaluationForm).where(EvaluationForm.name == "Long form")).one()
    assert [question.text for question in form.questions] == [f"Question {index}" for index in range(10)]


@pytest.mark.parametrize(
    ("changed", "finnish"),
    [
        (
            {"sections[0].questions[2].weight": "150"},
            "Osio 1, kysymys 3: painon on oltava luku, joka on suurempi kuin 0 ja enintään 100",
        ),
        ({"name": " "}, "anna lomakkeelle nimi"),
    ],
)
def test_a_refused_form_is_named_in_finnish_to_a_finnish_reader(
    qa: FlaskClient, changed: dict[str, str], finnish: str
) -> None:
    """Found by exploratory testing: the builder showed the service's English ("Section 1, question 3: …")."""
    fields = {
        "name": "Painot",
        "sections[0].title": "Avaus",
        "sections[0].questions[0].text": "Tervehdys",
        "sections[0].questions[1].text": "Nimi",
        "sections[0].questions[2].text": "Asia",
        **changed,
    }
    response = post_as(qa, "/forms/new", fields, token_from="/forms/new", headers=FINNISH)
    page = visible_text(response.get_data(as_text=True))
    assert response.status_code == 422 and finnish in page and "Section 1" not in page and "a form needs" not in page
