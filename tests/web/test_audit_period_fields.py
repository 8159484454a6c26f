"""The audit page's From and Until fields show the period the list is filtered by, whatever form it was typed in.

Found acting as a compliance officer: refused for "1.12.2026", From took "2026-12-01" as its message suggests ("use
a date (2025-01-31) ..."); the list was then filtered from 1 December, but the field came back as a datetime-local
field, which a browser blanks for a date alone (Chromium shows "" for `value="2026-12-01"`, and for a time naming
its zone): the form read as unfiltered while the list was not, and the next Filter (another actor, say) silently
dropped the period.
"""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from tests.factories.accounts import login, make_user


def period_field(page: str, name: str) -> str:
    found = re.search(rf'<input id="{name}"[^>]*>', page)
    assert found is not None
    return found[0]


@pytest.mark.parametrize(
    ("name", "typed", "shown_as"),
    [
        ("since", "2026-12-01", "text"),
        ("until", "2026-12-02", "text"),
        ("since", "2026-12-01T10:00+02:00", "text"),
        ("until", "2026-12-01T08:00Z", "text"),
        ("since", "2026-12-01T10:00", "datetime-local"),
        ("until", "2026-12-01T10:00:30", "datetime-local"),
    ],
)
def test_a_period_a_datetime_local_field_would_blank_comes_back_in_a_text_field(
    client: FlaskClient, session: Session, name: str, typed: str, shown_as: str
) -> None:
    login(client, make_user(session, role=Role.COMPLIANCE))
    response = client.get("/audit/", query_string={name: typed})
    assert response.status_code == 200
    field = period_field(response.get_data(as_text=True), name)
    assert f'type="{shown_as}"' in field and f'value="{typed}"' in field
    assert "aria-invalid" not in field


def test_beside_a_refused_field_the_other_period_field_keeps_its_date(client: FlaskClient, session: Session) -> None:
    login(client, make_user(session, role=Role.COMPLIANCE))
    response = client.get("/audit/", query_string={"since": "2026-12-01", "until": "2.12.2026"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'type="text" value="2026-12-01"' in period_field(page, "since")
    assert 'aria-invalid="true"' in period_field(page, "until")
