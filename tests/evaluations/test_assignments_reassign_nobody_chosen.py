"""The Reassign page chooses nobody for the lead: Reassign pressed before choosing is refused beside the select.

Found by use: the "Hand it to" list opened on the first supervisor by name, so a lead who pressed Reassign before
choosing (or missed the select) handed the call to whoever sorts first, who was then told nothing of it.
"""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy.orm import Session

from recordings_service.models import Assignment
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user, post_form
from tests.factories.assignments import overdue_on
from tests.factories.staff import client_of


def test_reassign_pressed_before_choosing_hands_the_call_to_nobody(
    app: Flask, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead, holder = make_user(session, username="lead"), make_user(session, username="holder")
    make_user(session, username="aaron")  # first by name
    held = overdue_on(session, store, envelope, holder=holder, lead=lead)
    session.commit()
    client, path = client_of(app, lead), f"/assignments/{held.id}/reassign"

    page = client.get(path).get_data(as_text=True)
    select = re.search(r'<select id="assignee_id".*?</select>', page, re.S)
    assert select is not None
    assert re.match(r'<select[^>]*>\s*<option value="">choose a supervisor</option>', select.group(0))
    assert "selected" not in select.group(0)

    refused = post_form(client, path, {"assignee_id": "", "due": ""}, token_from=path)

    shown = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Choose a supervisor from the list." in shown and 'aria-invalid="true"' in shown
    session.expire_all()
    assert session.get_one(Assignment, held.id).assignee_id == holder.id
