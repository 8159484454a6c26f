"""Found by exploratory testing: the main navigation's accessible name was "Main" on every page, in English on a
Finnish page (a screen reader announced "Main, navigation" amid Finnish); it is named in the reader's language."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from tests.factories.accounts import make_user
from tests.factories.staff import client_of
from tests.web.reader_language import ENGLISH, FINNISH


def test_the_main_navigation_is_named_in_the_readers_language(app: Flask, session: Session) -> None:
    client = client_of(app, make_user(session, role=Role.QA_SUPERVISOR))
    for page in ("/calls/", "/evaluations/"):
        finnish = client.get(page, headers=FINNISH).get_data(as_text=True)
        assert '<nav aria-label="Päävalikko">' in finnish and 'aria-label="Main"' not in finnish
        assert '<nav aria-label="Main">' in client.get(page, headers=ENGLISH).get_data(as_text=True)
