"""Found by exploratory testing: once a form had a later version (a draft or published), the page of an earlier
version still offered "Edit as a new version"; saving there was always refused, on a bare 409 error page in
English, and every change typed into the builder was lost. The earlier version's page now points to the latest
one instead, and a save that meets a later version comes back to the builder as typed, with the reason."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.evaluations import forms
from recordings_service.models import EvaluationForm, User
from tests.factories.accounts import login, make_user, post_form
from tests.factories.evaluations import SMALL_FORM, actor_of, published_form
from tests.page_text import visible_text

CHANGED = {
    "name": "Small form, reworded",
    "sections[0].title": "Opening",
    "sections[0].questions[0].text": "Greeting with the company name",
    "sections[0].questions[0].weight": "1",
}


@pytest.fixture
def editor(client: FlaskClient, session: Session) -> User:
    editor = make_user(session)
    session.commit()
    login(client, editor)
    return editor


@pytest.fixture
def versions(session: Session, editor: User) -> tuple[EvaluationForm, EvaluationForm]:
    """Version 1 (published) and version 2 (a draft) of one form."""
    v1 = published_form(session, actor_of(editor))
    v2 = forms.edit_form(session, actor=actor_of(editor), form_id=v1.id, spec=SMALL_FORM)
    session.commit()
    return v1, v2


def test_an_earlier_versions_page_points_to_the_latest_instead_of_offering_an_edit(
    client: FlaskClient, versions: tuple[EvaluationForm, EvaluationForm]
) -> None:
    v1, v2 = versions
    page = client.get(f"/forms/{v1.id}").get_data(as_text=True)
    assert f"/forms/{v1.id}/edit" not in page
    assert f'href="/forms/{v2.id}"' in page
    assert "Version 2 of this form exists" in visible_text(page)
    latest = client.get(f"/forms/{v2.id}").get_data(as_text=True)
    assert f"/forms/{v2.id}/edit" in latest


def test_a_save_that_meets_a_later_version_keeps_what_was_typed(
    client: FlaskClient, session: Session, versions: tuple[EvaluationForm, EvaluationForm]
) -> None:
    v1, _ = versions
    path = f"/forms/{v1.id}/edit"
    refused = post_form(client, path, CHANGED, token_from=path)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert 'value="Greeting with the company name"' in page and 'value="Small form, reworded"' in page
    assert "Version 2 of this form exists" in visible_text(page)
    assert session.scalar(select(func.count()).select_from(EvaluationForm)) == 2
