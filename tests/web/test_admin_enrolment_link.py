"""The page showing an enrolment link tells the admin what its holder will do there: a new account's holder sets
both, a password reset's a new password, a second-factor reset's a new authenticator app."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.config import Settings
from recordings_service.models.account import Role, User
from recordings_service.storage.encryption import Envelope
from tests.factories.accounts import login, make_enrolled_user, make_user, post_form
from tests.page_text import visible_text

NEW = "There the holder sets a password and the authenticator app"
NEW_PASSWORD = "There the holder sets a new password"
NEW_APP = "There the holder gives their password and sets up a new authenticator app"


def shown(client: FlaskClient, path: str, token_from: str, data: dict[str, str] | None = None) -> str:
    page = post_form(client, path, data or {}, token_from=token_from)
    assert page.status_code == 200
    text = " ".join(visible_text(page.get_data(as_text=True)).split())
    assert re.search(r"/enrol/[\w-]{43}", text)
    return text


def test_the_link_page_says_what_the_holder_sets_there(
    client: FlaskClient, session: Session, envelope: Envelope
) -> None:
    """Found by exploratory testing: after a second-factor reset the page said the holder "sets a password and the
    authenticator app", though the holder keeps the password and gives it there."""
    login(client, make_user(session, role=Role.ADMIN))
    created = shown(client, "/admin/users/new", "/admin/users/new", {"username": "nina", "role": "trainer"})
    assert NEW in created and NEW_PASSWORD not in created and NEW_APP not in created

    holder, _ = make_enrolled_user(session, envelope, role=Role.TRAINER)
    detail = f"/admin/users/{holder.id}"
    after_mfa_reset = shown(client, f"{detail}/mfa", detail)
    assert NEW_APP in after_mfa_reset and NEW not in after_mfa_reset

    other, _ = make_enrolled_user(session, envelope, role=Role.TRAINER)
    detail = f"/admin/users/{other.id}"
    after_password_reset = shown(client, f"{detail}/password", detail)
    assert NEW_PASSWORD in after_password_reset and NEW not in after_password_reset


def test_a_create_form_sent_twice_shows_a_working_link_for_the_one_account(
    client: FlaskClient, session: Session
) -> None:
    """Found by exploratory testing: a double-clicked Create made the account, but the browser showed the second
    answer, "user nina already exists", and the enrolment link (on the first answer only) was lost."""
    admin = make_user(session, role=Role.ADMIN)
    login(client, admin)
    form = {"username": "nina", "role": "trainer", "display_name": "Nina Korhonen"}
    first = shown(client, "/admin/users/new", "/admin/users/new", form)
    again = shown(client, "/admin/users/new", "/admin/users/new", form)
    assert "Created nina." in again and NEW in again
    nina = session.scalars(select(User).where(User.username == "nina")).all()
    assert len(nina) == 1
    first_link, last_link = (re.search(r"/enrol/[\w-]{43}", text)[0] for text in (first, again))  # type: ignore[index]
    holder = client.application.test_client()
    assert holder.get(first_link).status_code == 404, "the link nobody saw still works"
    assert holder.get(last_link).status_code == 200

    # Not the same request: another role for the name, or the name created by another admin.
    login(client, admin)
    changed = post_form(client, "/admin/users/new", {**form, "role": "qa_supervisor"}, token_from="/admin/users/new")
    assert changed.status_code == 422 and "an account of this username exists already" in changed.get_data(as_text=True)
    login(client, make_user(session, role=Role.ADMIN))
    other_admin = post_form(client, "/admin/users/new", form, token_from="/admin/users/new")
    assert other_admin.status_code == 422


def test_the_link_is_on_the_public_address_whatever_host_the_admin_used(
    client: FlaskClient, session: Session, settings: Settings
) -> None:
    """Found by a security pass: the page built the link from the admin's own request, so an admin who reached the
    service by an internal address (or a port behind the proxy) handed out a link the holder could not open; the
    CLI's link was on CALLVAULT_PUBLIC_URL all along."""
    login(client, make_user(session, role=Role.ADMIN))
    page = post_form(client, "/admin/users/new", {"username": "otto", "role": "trainer"}, token_from="/admin/users/new")
    links = re.findall(r"https?://[^\s\"<]+/enrol/[\w-]{43}", page.get_data(as_text=True))
    assert settings.public_url and not settings.public_url.startswith("http://localhost")
    assert links and all(link.startswith(settings.public_url.rstrip("/") + "/enrol/") for link in links), links
