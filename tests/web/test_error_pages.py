"""UI error pages are the app's own, in the person's language, with a way back; the API keeps its JSON."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models import Recording, User
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.reviews import make_transcribed_call

FINNISH = {"Accept-Language": "fi"}


@pytest.fixture
def call(session: Session, store: S3ObjectStore, envelope: Envelope) -> Recording:
    return make_transcribed_call(session, store, envelope)


@pytest.fixture
def trainer(session: Session, client: FlaskClient) -> User:
    user = make_user(session, role=Role.TRAINER)
    login(client, user)
    return user


def back_link(html: str) -> str:
    found = re.findall(r'<a href="([^"]*)" class="back">', html)
    assert len(found) == 1, "one way back"
    return found[0]


def test_a_trainer_refused_a_call_page_gets_the_apps_page_in_finnish_with_a_way_back(
    client: FlaskClient, call: Recording, trainer: User
) -> None:
    response = client.get(
        f"/calls/{call.id}/evaluate", headers={**FINNISH, "Referer": f"http://localhost/calls/{call.id}?t=3"}
    )
    assert response.status_code == 403
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<html lang="fi">' in html and 'class="brand"' in html  # the layout, in Finnish
    assert "Virhe 403" in html
    # Neither Werkzeug's text nor the refusal's English message; the page's own sentence is in the catalogue.
    assert "Forbidden" not in html and "your role does not permit this" not in html
    assert "Roolisi ei anna pääsyä" in html and "Your role does not give access" not in html
    assert back_link(html) == f"/calls/{call.id}?t=3"


def test_an_unknown_ui_address_is_the_apps_404_page_with_a_link_home(client: FlaskClient, trainer: User) -> None:
    response = client.get("/no/such/page", headers={"Referer": "https://evil.example/phish"})
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "The page or call does not exist" in html and 'class="brand"' in html
    assert "The requested URL was not found on the server" not in html  # Werkzeug's text
    assert back_link(html) == "/"  # another site's referrer is not followed


def test_a_wrong_method_on_a_ui_page_is_the_apps_405_page(client: FlaskClient, trainer: User) -> None:
    response = client.get("/language", headers=FINNISH)
    assert response.status_code == 405
    html = response.get_data(as_text=True)
    assert '<html lang="fi">' in html and "Virhe 405" in html
    assert "The method is not allowed" not in html  # Werkzeug's text
    assert back_link(html) == "/"


def test_api_refusals_and_unknown_addresses_stay_json(client: FlaskClient, session: Session, call: Recording) -> None:
    login(client, make_user(session, role=Role.TRAINER))
    refused = client.get(f"/api/v1/recordings/{call.id}/audio", headers=FINNISH)
    assert refused.status_code == 403 and refused.is_json
    assert refused.get_json()["error"] == "forbidden"
    missing = client.get("/api/v1/no-such-thing", headers=FINNISH)
    assert missing.status_code == 404 and missing.is_json
    assert set(missing.get_json()) >= {"error", "message"}
