"""The call list's Assign chooses nobody for the lead, and says what it did, counted.

Found by use: the Evaluator list opened on the first supervisor by name, so an Assign pressed before choosing handed
the chosen calls to whoever sorts first (the Reassign page had the same fault). And after Assign the list said
"Assigned 3 calls" of three chosen even when two were on that supervisor's list already or evaluated by them already,
so nothing new appeared on their list. Now Assign without a choice is refused beside the field (422, the list as it
was, the calls still ticked), and the message counts what was new, what was there already and what was done.
"""

from __future__ import annotations

import re
from datetime import date

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.evaluations import assignments
from recordings_service.models import Assignment
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import csrf_token, login, make_user
from tests.factories.assignments import submitted
from tests.factories.evaluations import actor_of
from tests.factories.recordings import make_recording
from tests.page_text import visible_text
from tests.web.reader_language import FINNISH


def test_assign_pressed_before_choosing_hands_the_calls_to_nobody(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead = make_user(session, username="lead")
    make_user(session, username="aaron")  # first by name
    call, other = make_recording(session, store, envelope), make_recording(session, store, envelope)
    session.commit()
    login(client, lead)

    page = client.get("/calls/").get_data(as_text=True)
    select_html = re.search(r'<select id="assignee_id".*?</select>', page, re.S)
    assert select_html is not None
    assert re.match(r'<select[^>]*>\s*<option value="">choose a supervisor</option>', select_html.group(0))
    assert "selected" not in select_html.group(0)

    data = {
        "csrf_token": csrf_token(client, "/calls/"),
        "recording_id": call.id,
        "assignee_id": "",
        "due": "",
        "back": "sort=duration&dir=asc",
    }
    refused = client.post("/calls/assign", data=data)

    shown = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'id="assign-error"' in shown and "Choose a supervisor from the list." in shown
    marked = re.search(r'<select id="assignee_id"[^>]*>', shown)
    assert marked is not None and 'aria-invalid="true"' in marked.group(0)
    assert re.search(rf'value="{call.id}" id="pick-{call.id}" checked', shown)  # still ticked
    assert not re.search(rf'value="{other.id}" id="pick-{other.id}" checked', shown)
    assert 'aria-sort="ascending"' in shown  # the list as it was: sorted by duration, shortest first
    assert session.scalars(select(Assignment)).all() == []

    finnish = client.post("/calls/assign", data=data, headers=FINNISH)
    assert finnish.status_code == 422 and "Choose a supervisor" not in visible_text(finnish.get_data(as_text=True))


def test_the_message_counts_what_assign_did(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead, aino = make_user(session), make_user(session)
    aino.display_name = "Aino"
    new, listed, done, done_listed = (make_recording(session, store, envelope) for _ in range(4))
    assignments.assign_calls(
        session,
        actor=actor_of(lead),
        recording_ids=[listed.id, done_listed.id],
        assignee_id=aino.id,
        today=date.today(),
    )
    submitted(session, done, aino)
    submitted(session, done_listed, aino)
    session.commit()
    login(client, lead)
    data = {
        "csrf_token": csrf_token(client, "/calls/"),
        "recording_id": [new.id, listed.id, done.id, done_listed.id],
        "assignee_id": aino.id,
    }

    sent = client.post("/calls/assign", data=data, follow_redirects=True)

    said = " ".join(visible_text(sent.get_data(as_text=True)).split())
    assert (
        "Assigned 1 call. 1 was on Aino's list already. "
        "2 have been evaluated by Aino already: nothing new on their list." in said
    )
    assert "Assigned 4 calls" not in said
    open_on_list = assignments.count_assignments(session, actor=actor_of(lead), today=date.today(), assignee_id=aino.id)
    assert open_on_list == 2  # the new one and the one there before


def test_the_list_shows_who_has_each_call_open_on_their_list(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    """Found by use: a lead ticking a page of unevaluated calls could not see that a plan had put some of them on
    supervisors' lists already, so the bulk Assign was refused (all or none), one held call named at a time."""
    lead, aino, pekka = make_user(session), make_user(session), make_user(session)
    aino.display_name, pekka.display_name = "Aino", "Pekka"
    held, done, free = (make_recording(session, store, envelope) for _ in range(3))
    for holder, call in ((aino, held), (pekka, done)):
        assignments.assign_calls(
            session, actor=actor_of(lead), recording_ids=[call.id], assignee_id=holder.id, today=date.today()
        )
    submitted(session, done, pekka)  # done: on nobody's list to evaluate
    session.commit()
    login(client, lead)

    page = client.get("/calls/").get_data(as_text=True)

    assert '<th scope="col">On the list of</th>' in page

    def row(call_id: str) -> str:
        found = re.search(rf'value="{call_id}" id="pick-{call_id}".*?</tr>', page, re.S)
        assert found is not None
        return found.group(0)

    assert "<td>Aino</td>" in row(held.id)
    assert "<td>Pekka</td>" not in row(done.id) and "Aino" not in row(free.id)

    login(client, make_user(session, role=Role.TRAINER))  # assigns nothing: not shown whose lists hold what
    trainers = client.get("/calls/")
    assert trainers.status_code == 200 and "On the list of" not in trainers.get_data(as_text=True)
