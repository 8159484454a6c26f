"""The new-user form refuses a display name over its limit, as the CLI and the API do.

Found by review: the form cut the name to its first 200 characters and created the account under a name nobody
typed, without a word."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.account_names import MAX_DISPLAY_NAME
from recordings_service.models import User
from recordings_service.models.account import Role
from tests.factories.accounts import make_user
from tests.factories.staff import client_of
from tests.page_text import visible_text
from tests.web.reader_language import FINNISH, post_as

NEW_USER = "/admin/users/new"


def test_an_overlong_display_name_is_refused_with_the_field_marked(app: Flask, session: Session) -> None:
    client = client_of(app, make_user(session, role=Role.ADMIN))
    typed = "Ä" * (MAX_DISPLAY_NAME + 1)
    data = {"username": "longname", "role": "trainer", "display_name": typed}
    response = post_as(client, NEW_USER, data, token_from=NEW_USER, headers=FINNISH)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in html.split('id="display_name"', 1)[1].split(">", 1)[0]
    assert typed in html  # kept as typed, to shorten
    assert f"enintään {MAX_DISPLAY_NAME} merkkiä" in " ".join(visible_text(html).split())
    assert session.scalar(select(User).where(User.username == "longname")) is None


def test_a_taken_agent_ref_or_username_is_refused_with_its_field_marked(app: Flask, session: Session) -> None:
    """Refused as taken (a conflict, not an invalid value), the form marked no field."""
    client = client_of(app, make_user(session, role=Role.ADMIN))
    existing = make_user(session, role=Role.AGENT)
    existing.agent_ref = "agent-7"
    session.commit()
    for data, field in (
        ({"username": "liisa", "role": "agent", "agent_ref": "agent-7"}, "agent_ref"),
        ({"username": existing.username, "role": "trainer"}, "username"),
    ):
        response = post_as(client, NEW_USER, data, token_from=NEW_USER, headers=FINNISH)
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert 'aria-invalid="true"' in html.split(f'id="{field}"', 1)[1].split(">", 1)[0], field
