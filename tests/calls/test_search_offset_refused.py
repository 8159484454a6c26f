"""The search and list APIs page by cursor only: an `offset` (negative, or not a number) is a 422 naming the field,
never a 500 nor silently ignored. The service's own offset (the calls page's other orders) is refused by name too."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.calls.search import SearchFilters, search_calls
from recordings_service.errors import Invalid
from recordings_service.models.account import Role
from tests.factories.accounts import login, make_user


@pytest.mark.parametrize("path", ["/api/v1/search", "/api/v1/recordings"])
@pytest.mark.parametrize("offset", ["-1", "abc"])
def test_an_offset_is_a_422_naming_it(client: FlaskClient, session: Session, path: str, offset: str) -> None:
    login(client, make_user(session, role=Role.QA_SUPERVISOR))

    response = client.get(f"{path}?offset={offset}")

    assert response.status_code == 422
    assert response.is_json and response.get_json()["field"] == "offset"


def test_a_negative_offset_is_refused_by_the_service_naming_it(session: Session) -> None:
    qa = Actor(id=None, name="qa", role=Role.QA_SUPERVISOR)
    with pytest.raises(Invalid) as refused:
        search_calls(session, actor=qa, query="", filters=SearchFilters(), sort="queue", descending=False, offset=-1)
    assert refused.value.field == "offset"
