"""The account pages (admin, own password, enrolment link) and a stale form say why they refused in the reader's
language, through the one mapping (web/ui/error_messages.py), instead of the service's English message.

Found by exploring the pages in Finnish: every refusal there, and the CSRF page, was in English; an unknown
enrolment link showed the generic "page or call does not exist" rather than what to do about it.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models import User
from recordings_service.models.account import Role
from tests.factories.accounts import PASSWORD, make_user
from tests.factories.staff import client_of
from tests.page_text import visible_text
from tests.web.reader_language import ENGLISH, FINNISH, post_as

NEW_USER = "/admin/users/new"


@pytest.fixture
def admin(session: Session) -> User:
    return make_user(session, role=Role.ADMIN)


def shown(client: FlaskClient, path: str, data: dict[str, str], *, token_from: str, headers: dict[str, str]) -> str:
    sent = post_as(client, path, data, token_from=token_from, headers=headers)
    if sent.status_code == 302:
        sent = client.get(sent.headers["Location"], headers=headers)
    return " ".join(visible_text(sent.get_data(as_text=True)).split())


@pytest.mark.parametrize(
    ("data", "finnish", "english"),
    [
        (
            {"username": "bad name!", "role": "trainer"},
            "käytä 1–64 merkkiä: kirjaimia a–z",
            "use 1–64 letters a–z",
        ),
        (
            {"username": "okname", "role": "wizard"},
            "valitse jokin tarjotuista vaihtoehdoista",
            "choose one of the options offered",
        ),
        ({"username": "okname", "role": "agent"}, "asiakaspalvelijan tili tarvitsee tunnuksen", "needs the agent ref"),
        ({"username": "okname", "role": "research_partner"}, "tutkimuskumppanin on kuuluttava", "must belong to"),
    ],
)
def test_creating_an_account_is_refused_in_the_readers_language(
    app: Flask, admin: User, data: dict[str, str], finnish: str, english: str
) -> None:
    client = client_of(app, admin)
    assert finnish in shown(client, NEW_USER, data, token_from=NEW_USER, headers=FINNISH)
    assert english in shown(client, NEW_USER, data, token_from=NEW_USER, headers=ENGLISH)


def test_an_admin_acting_on_their_own_account_or_a_taken_name_reads_why_in_finnish(app: Flask, admin: User) -> None:
    client = client_of(app, admin)
    taken = shown(
        client, NEW_USER, {"username": admin.username, "role": "trainer"}, token_from=NEW_USER, headers=FINNISH
    )
    assert "tällä käyttäjätunnuksella on jo tili" in taken
    own = f"/admin/users/{admin.id}"
    assert "et voi poistaa omaa tiliäsi käytöstä" in shown(
        client, f"{own}/disable", {}, token_from=own, headers=FINNISH
    )
    changed = shown(client, f"{own}/role", {"role": "trainer"}, token_from=own, headers=FINNISH)
    assert "et voi vaihtaa oman tilisi roolia" in changed


def test_a_short_new_password_is_refused_in_finnish(app: Flask, session: Session) -> None:
    client = client_of(app, make_user(session, role=Role.TRAINER))
    form = {"password": PASSWORD, "new_password": "short", "confirm_password": "short"}
    page = shown(client, "/account/password", form, token_from="/account/password", headers=FINNISH)
    assert "salasanassa on vähintään 12 merkkiä" in page


def test_an_unknown_enrolment_link_says_what_to_do(client: FlaskClient) -> None:
    for headers, expected in (
        (FINNISH, "tätä käyttöönottolinkkiä ei tunneta, se on käytetty tai vanhentunut; pyydä ylläpitäjältä uusi"),
        (ENGLISH, "this enrolment link is unknown, used or expired; ask an admin for a new one"),
    ):
        answer = client.get("/enrol/no-such-link", headers=headers)
        assert answer.status_code == 404
        assert expected in " ".join(visible_text(answer.get_data(as_text=True)).split())


def test_a_form_without_its_csrf_token_is_explained_in_finnish(app: Flask, admin: User) -> None:
    client = client_of(app, admin)
    answer = client.post(NEW_USER, data={"username": "okname", "role": "trainer"}, headers=FINNISH)
    page = " ".join(visible_text(answer.get_data(as_text=True)).split())
    assert answer.status_code == 400
    assert "Lomake on vanhentunut tai se ei tullut Callvaultista" in page
    assert "CSRF" not in page
