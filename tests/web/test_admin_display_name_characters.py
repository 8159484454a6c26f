"""A display name is one line of visible text: line breaks, tabs and other control or format characters are refused
on the new-user form and by `callvault users create`, while letters of any alphabet stay.

Found by review: "Anna\\nAdmin" was stored as typed and broke its line in the audit trail's names and the pages, and
a right-to-left override (U+202E) showed the rest of a name reversed."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service import accounts
from recordings_service.models import User
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.accounts import make_user
from tests.factories.staff import client_of
from tests.page_text import visible_text
from tests.web.reader_language import ENGLISH, post_as
from web import cli, cli_support

NEW_USER = "/admin/users/new"
REFUSED = ["Anna\nAdmin", "Anna\tAdmin", "Anna\u0007", "Anna \u202enimdA", "Anna\u2028Admin", "Anna\u200bAdmin"]


@pytest.mark.parametrize("typed", REFUSED)
def test_the_form_refuses_a_control_character_with_the_field_marked(app: Flask, session: Session, typed: str) -> None:
    client = client_of(app, make_user(session, role=Role.ADMIN))
    data = {"username": "anna", "role": "trainer", "display_name": typed}
    response = post_as(client, NEW_USER, data, token_from=NEW_USER, headers=ENGLISH)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in html.split('id="display_name"', 1)[1].split(">", 1)[0]
    assert "a name is one line of visible text" in " ".join(visible_text(html).split())
    assert session.scalar(select(User).where(User.username == "anna")) is None


def test_letters_of_any_alphabet_stay(app: Flask, session: Session) -> None:
    client = client_of(app, make_user(session, role=Role.ADMIN))
    typed = "Åsa Ölund-Järvinen, Élodie Ngũgĩ, Ζωή, مهسا\u200cزاده"  # the joiner belongs to the Persian name
    data = {"username": "asa", "role": "trainer", "display_name": f"  {typed} "}
    response = post_as(client, NEW_USER, data, token_from=NEW_USER, headers=ENGLISH)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert accounts.user_by_username(session, "asa").display_name == typed


def test_the_cli_refuses_a_control_character(
    runtime: Runtime, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_support, "load_runtime", lambda: runtime)
    args = ["users", "create", "anna", "--role", "service", "--display-name", "Anna\nAdmin"]
    result = CliRunner().invoke(cli.main, args)
    assert result.exit_code == 1
    assert "display_name: remove the control character U+000A" in result.output
    assert accounts.find_user(session, "anna") is None
