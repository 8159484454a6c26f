"""The lead select offers the active QA supervisors only: a disabled one is always refused as a lead. A lead set
before being disabled is still shown, selected and marked, so saving the page leaves it as it was.

Found by review: disabled supervisors were offered, and choosing one was refused "a lead is an active QA
supervisor"."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from tests.factories.accounts import csrf_token, make_user, reloaded
from tests.factories.staff import client_of
from tests.web.reader_language import ENGLISH


def _lead_options(html: str) -> str:
    return html.split('<select id="lead_id"', 1)[1].split("</select>", 1)[0]


def test_the_new_user_form_offers_active_supervisors_only(app: Flask, session: Session) -> None:
    active = make_user(session, role=Role.QA_SUPERVISOR, username="active-lead")
    gone = make_user(session, role=Role.QA_SUPERVISOR, username="gone-lead", active=False)
    client = client_of(app, make_user(session, role=Role.ADMIN))
    options = _lead_options(client.get("/admin/users/new", headers=ENGLISH).get_data(as_text=True))
    assert active.id in options
    assert gone.id not in options and "gone-lead" not in options


def test_the_user_page_keeps_a_lead_disabled_since_and_offers_no_other(app: Flask, session: Session) -> None:
    led = make_user(session, role=Role.QA_SUPERVISOR, username="led")
    former = make_user(session, role=Role.QA_SUPERVISOR, username="former-lead")
    other = make_user(session, role=Role.QA_SUPERVISOR, username="other-gone", active=False)
    led.lead_id = former.id
    former.active = False
    session.flush()
    client = client_of(app, make_user(session, role=Role.ADMIN))
    page = f"/admin/users/{led.id}"
    options = _lead_options(client.get(page, headers=ENGLISH).get_data(as_text=True))
    assert f'<option value="{former.id}" selected>former-lead (disabled)</option>' in options
    assert other.id not in options
    # Saved as shown, the page changes nothing and refuses nothing.
    saved = client.post(f"{page}/lead", data={"lead_id": former.id, "csrf_token": csrf_token(client, page)})
    assert saved.status_code == 302
    assert "Lead saved." in client.get(page, headers=ENGLISH).get_data(as_text=True)
    assert reloaded(session, led).lead_id == former.id
