"""One sign-out control, in the shared layout, on every signed-in page."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from tests.factories.accounts import login, make_user
from tests.factories.research import institute, partner


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (Role.ADMIN, "/admin/users"),
        (Role.ADMIN, "/admin/users/new"),
        (Role.ADMIN, "/account"),
        (Role.ADMIN, "/account/password"),
        (Role.COMPLIANCE, "/audit/"),
        (Role.QA_SUPERVISOR, "/calls/"),
    ],
)
def test_staff_pages_have_exactly_one_sign_out_form(
    client: FlaskClient, session: Session, role: Role, path: str
) -> None:
    login(client, make_user(session, role=role))
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.get_data(as_text=True).count('action="/logout"') == 1


def test_the_partner_portal_has_exactly_one_sign_out_form(client: FlaskClient, session: Session) -> None:
    login(client, partner(session, institute(session).id))
    response = client.get("/partner/")
    assert response.status_code == 200
    assert response.get_data(as_text=True).count('action="/logout"') == 1
