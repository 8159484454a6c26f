"""A lead handing calls on from a list of `/assignments` comes back to that list, not to another one.

Found by review: reassigning from everyone's overdue list (`/assignments?overdue=1`) sent the lead to the previous
supervisor's list, away from the rest of the overdue calls waiting to be handed on. The Reassign link and form carry
the list they came from (`back`), the dashboard's overdue list included; only an address of the assignments page
or the dashboard is followed, never another site's."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models import Assignment
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, make_user, post_form
from tests.factories.assignments import overdue_on, reassign_link


@pytest.mark.parametrize(
    ("listed_at", "link_back", "way_back"),
    [
        ("/assignments?overdue=1", "/assignments?overdue%3D1", "Back to the list"),
        # The dashboard's overdue list has Reassign links of its own: they too led to the previous holder's list.
        ("/dashboard", "/dashboard", "Back to the dashboard"),
    ],
)
def test_reassigning_from_an_overdue_list_returns_the_lead_to_it(
    client: FlaskClient,
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    listed_at: str,
    link_back: str,
    way_back: str,
) -> None:
    lead, ill = make_user(session, username="lead"), make_user(session, username="ill")
    stand_in = make_user(session, username="stand-in")
    held = overdue_on(session, store, envelope, holder=ill, lead=lead)
    session.commit()
    login(client, lead)

    link = reassign_link(client.get(listed_at).get_data(as_text=True), held.id)
    assert link == f"/assignments/{held.id}/reassign?back={link_back}"
    form = client.get(link).get_data(as_text=True)
    assert f'name="back" value="{listed_at}"' in form
    assert f'<a href="{listed_at}">{way_back}</a>' in form
    due = (date.today() + timedelta(days=2)).isoformat()
    fields = {"assignee_id": stand_in.id, "due": due, "from": ill.id, "back": listed_at}
    moved = post_form(client, link, fields, token_from=link)

    assert moved.status_code == 302 and moved.headers["Location"] == listed_at
    session.expire_all()
    assert session.get_one(Assignment, held.id).assignee_id == stand_in.id
    # A refused form keeps where it came from.
    refused = post_form(client, link, fields, token_from=link)  # the call is stand-in's now
    assert refused.status_code == 422
    assert f'name="back" value="{listed_at}"' in refused.get_data(as_text=True)


def test_a_page_further_on_in_a_supervisors_list_is_where_the_lead_returns(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead, ill, stand_in = make_user(session), make_user(session), make_user(session)
    held = overdue_on(session, store, envelope, holder=ill, lead=lead)
    session.commit()
    login(client, lead)
    here = f"/assignments?assignee={ill.id}&overdue=1"

    link = reassign_link(client.get(here).get_data(as_text=True), held.id)
    fields = {"assignee_id": stand_in.id, "due": "", "from": ill.id, "back": here}
    moved = post_form(client, link, fields, token_from=link)

    assert moved.status_code == 302 and moved.headers["Location"] == here


@pytest.mark.parametrize(
    "back",
    [
        "https://evil.example/assignments",
        "//evil.example/assignments",
        "/\\evil.example/assignments",
        "/%09/evil.example/assignments",
        "javascript:alert(1)",
        "/calls?q=x",
        "/assignments/../logout",
        "https://evil.example/dashboard",
        "//evil.example/dashboard",
        "/%09/evil.example/dashboard",
        "/dashboard/../logout",
        "/dashboard/transcriptions/x/requeue",
    ],
)
def test_a_back_address_off_the_assignments_page_is_ignored(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope, back: str
) -> None:
    lead, ill, stand_in = make_user(session), make_user(session), make_user(session)
    held = overdue_on(session, store, envelope, holder=ill, lead=lead)
    session.commit()
    login(client, lead)
    path = f"/assignments/{held.id}/reassign"

    form = client.get(path, query_string={"back": back}).get_data(as_text=True)
    assert 'name="back"' not in form and "evil.example" not in form
    moved = post_form(client, path, {"assignee_id": stand_in.id, "from": ill.id, "back": back}, token_from=path)

    assert moved.status_code == 302 and moved.headers["Location"] == f"/assignments?assignee={ill.id}"
