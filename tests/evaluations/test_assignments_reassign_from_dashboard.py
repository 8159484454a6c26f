"""A lead handing on a call from the dashboard's overdue list comes back to the dashboard.

Found by review: the dashboard's overdue list has Reassign links of its own, without `back`, so a lead reassigning
from there landed on the previous holder's list instead of the dashboard, away from the rest of its overdue calls.
The dashboard's links carry `back=/dashboard`, followed as the assignments page's are, never to another site
(test_assignments_reassign_back.py's refused addresses include look-alikes of the dashboard's)."""

from __future__ import annotations

from datetime import date, timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models import Assignment
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, make_user, post_form
from tests.factories.assignments import overdue_on, reassign_link


def test_reassigning_from_the_dashboards_overdue_list_returns_the_lead_to_the_dashboard(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead, ill, stand_in = make_user(session), make_user(session), make_user(session)
    held = overdue_on(session, store, envelope, holder=ill, lead=lead)
    session.commit()
    login(client, lead)

    link = reassign_link(client.get("/dashboard").get_data(as_text=True), held.id)
    assert link == f"/assignments/{held.id}/reassign?back=/dashboard"
    form = client.get(link).get_data(as_text=True)
    assert 'name="back" value="/dashboard"' in form
    assert '<a href="/dashboard">Back to the dashboard</a>' in form
    due = (date.today() + timedelta(days=2)).isoformat()
    fields = {"assignee_id": stand_in.id, "due": due, "from": ill.id, "back": "/dashboard"}
    moved = post_form(client, link, fields, token_from=link)

    assert moved.status_code == 302 and moved.headers["Location"] == "/dashboard"
    session.expire_all()
    assert session.get_one(Assignment, held.id).assignee_id == stand_in.id
