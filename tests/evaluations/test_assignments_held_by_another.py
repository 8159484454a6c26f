"""A call still open on one supervisor's list is not assigned by hand to a second one.

Found by use: assigning a call (the call list's Assign, or the API) to a second supervisor left the first one's
assignment of it open, so two people evaluated one call, neither knowing of the other. Such an assignment is refused
(409), naming who holds the call and pointing to Reassign, which moves the assignment and tells its holder; the
page and the API refuse alike. A call its holder has evaluated may be assigned again (a second look).
"""

from __future__ import annotations

from datetime import date

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.evaluations import assignments
from recordings_service.models import Assignment, User
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import csrf_token, login, make_user
from tests.factories.assignments import api_caller, submitted
from tests.factories.evaluations import actor_of
from tests.factories.recordings import make_recording


def holders(session: Session, recording_id: str) -> list[str]:
    session.expire_all()
    query = select(Assignment.assignee_id).where(Assignment.recording_id == recording_id).order_by(Assignment.id)
    return list(session.scalars(query))


def held_by(session: Session, holder: User, recording_id: str, *, lead: User) -> Assignment:
    [held] = assignments.assign_calls(
        session, actor=actor_of(lead), recording_ids=[recording_id], assignee_id=holder.id, today=date.today()
    ).assignments
    session.commit()
    return held


def test_the_api_refuses_a_call_open_on_another_list_naming_its_holder(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead, first, second = make_user(session), make_user(session), make_user(session)
    call, free = make_recording(session, store, envelope), make_recording(session, store, envelope)
    held = held_by(session, first, call.id, lead=lead)
    login(client, lead)
    ask = api_caller(client)

    refused = ask("POST", "/api/v1/assignments", 409, {"recording_id": call.id, "assignee_id": second.id})
    assert refused["error"] == "conflict"
    assert first.username in refused["message"] and f"/api/v1/assignments/{held.id}/reassign" in refused["message"]
    bulk = {"recording_ids": [free.id, call.id], "assignee_id": second.id}
    assert ask("POST", "/api/v1/assignments/bulk", 409, bulk)["error"] == "conflict"
    assert (holders(session, call.id), holders(session, free.id)) == ([first.id], [])  # all or none

    # The holder's own again, and Reassign, still work; then the call is the second supervisor's alone.
    assert ask("POST", "/api/v1/assignments", 201, {"recording_id": call.id, "assignee_id": first.id})["id"] == held.id
    ask("POST", f"/api/v1/assignments/{held.id}/reassign", 200, {"assignee_id": second.id})
    assert holders(session, call.id) == [second.id]


def test_a_call_evaluated_by_its_holder_may_be_assigned_again(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead, first, second = make_user(session), make_user(session), make_user(session)
    call = make_recording(session, store, envelope)
    held_by(session, first, call.id, lead=lead)
    submitted(session, call, first)
    session.commit()
    login(client, lead)

    api_caller(client)("POST", "/api/v1/assignments", 201, {"recording_id": call.id, "assignee_id": second.id})

    assert holders(session, call.id) == [first.id, second.id] or holders(session, call.id) == [second.id, first.id]


def test_the_call_list_refuses_it_too_saying_who_holds_it(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead, first, second = make_user(session), make_user(session), make_user(session)
    first.display_name = "Aino First"
    call = make_recording(session, store, envelope)
    held_by(session, first, call.id, lead=lead)
    login(client, lead)
    data = {"csrf_token": csrf_token(client, "/calls/"), "recording_id": call.id, "assignee_id": second.id}

    refused = client.post("/calls/assign", data=data, follow_redirects=True)

    page = refused.get_data(as_text=True)
    assert refused.status_code == 200 and refused.request.path == "/calls/"  # back on the list, not an error page
    assert f"Call {call.id} is on Aino First&#39;s list already, not yet evaluated: nothing was assigned." in page
    assert "Reassign it there" in page
    assert holders(session, call.id) == [first.id]
