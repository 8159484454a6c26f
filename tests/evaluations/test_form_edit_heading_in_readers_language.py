"""The form editor's heading names the form as every other page does, in the reader's language.

Found by exploratory testing in Finnish: "Lomakkeen Customer service call (energy retail) uusi versio", the seeded
form's name left in English inside a Finnish sentence (the form list says "Asiakaspalvelupuhelu …")."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from tests.factories.accounts import make_user
from tests.factories.evaluations import seeded_form
from tests.factories.staff import client_of


def test_a_published_forms_new_version_heading_is_in_finnish(app: Flask, session: Session) -> None:
    form = seeded_form(session)
    client = client_of(app, make_user(session, role=Role.QA_SUPERVISOR))

    page = client.get(f"/forms/{form.id}/edit", headers={"Accept-Language": "fi"}).get_data(as_text=True)

    heading = page[page.index("<h1>") : page.index("</h1>")]
    assert "Asiakaspalvelupuhelu (energian vähittäismyynti)" in heading
    assert "Customer service call" not in heading
