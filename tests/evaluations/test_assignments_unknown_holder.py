"""The assignments page refuses a supervisor choice naming no account, as the API does; the Reassign form opened
from the dashboard says it leads back to the dashboard.

Found by review: `/assignments?assignee=<no such id>` showed an empty list ("No open assignments."), so an edited
link or a removed account read as a supervisor with nothing to hand on, while `GET /api/v1/assignments` answers 422
for the same `assignee_id` (handover.list_holder). And the form opened from the dashboard's overdue list said "Back
to the list" for a link to the dashboard."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.assignments import overdue_on

UNKNOWN = "00000000-0000-0000-0000-000000000000"


def test_a_supervisor_choice_naming_no_account_is_refused_beside_the_select(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead = make_user(session)
    session.commit()
    login(client, lead)

    response = client.get(f"/assignments?assignee={UNKNOWN}")

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert '<p class="flash error" role="alert" id="assignee-error">Choose a supervisor from the list.</p>' in page
    select = re.search(r"<select id=\"assignee\"[^>]*>", page)
    assert select and 'aria-invalid="true" aria-describedby="assignee-error"' in select.group(0)
    assert "No open assignments." not in page


def test_a_known_supervisors_empty_list_is_no_refusal(client: FlaskClient, session: Session) -> None:
    lead, idle = make_user(session), make_user(session)
    session.commit()
    login(client, lead)

    response = client.get(f"/assignments?assignee={idle.id}")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "No open assignments." in page and "aria-invalid" not in page


def test_the_reassign_form_names_where_its_way_back_leads(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead, ill = make_user(session), make_user(session)
    held = overdue_on(session, store, envelope, holder=ill, lead=lead)
    session.commit()
    login(client, lead)

    from_dashboard = client.get(f"/assignments/{held.id}/reassign?back=/dashboard").get_data(as_text=True)
    from_list = client.get(f"/assignments/{held.id}/reassign?back=/assignments?overdue%3D1").get_data(as_text=True)

    assert '<a href="/dashboard">Back to the dashboard</a>' in from_dashboard
    assert "Back to the list" not in from_dashboard
    assert '<a href="/assignments?overdue=1">Back to the list</a>' in from_list
