"""Assigning in bulk says what it did, counted, in the API as on the call list.

Found by use: the bulk answer listed every chosen call alike, so a client could not tell the calls new on the
supervisor's list from those on it already; and a refusal for calls open on other supervisors' lists named only
the first of them, so a lead handing them on by Reassign found the others one refusal at a time. The bulk answer
now counts `added`, `listed_before` and `done_before`; the refusal counts the calls held (API message, and a line
of its own on the call list).
"""

from __future__ import annotations

from datetime import date

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.evaluations import assignments
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import csrf_token, login, make_user
from tests.factories.assignments import api_caller, submitted
from tests.factories.evaluations import actor_of
from tests.factories.recordings import make_recording
from tests.page_text import visible_text


def test_the_bulk_answer_counts_new_listed_and_done(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead, aino = make_user(session), make_user(session)
    new, listed, done = (make_recording(session, store, envelope) for _ in range(3))
    assignments.assign_calls(
        session, actor=actor_of(lead), recording_ids=[listed.id], assignee_id=aino.id, today=date.today()
    )
    submitted(session, done, aino)
    session.commit()
    login(client, lead)

    body = {"recording_ids": [new.id, listed.id, done.id], "assignee_id": aino.id}
    made = api_caller(client)("POST", "/api/v1/assignments/bulk", 201, body)

    assert (made["added"], made["listed_before"], made["done_before"]) == (1, 1, 1)
    assert [item["recording_id"] for item in made["items"]] == [new.id, listed.id, done.id]
    assert [item["done"] for item in made["items"]] == [False, False, True]


def test_a_refusal_counts_the_calls_held_by_others(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead, first, other, second = make_user(session), make_user(session), make_user(session), make_user(session)
    held, also_held, free = (make_recording(session, store, envelope) for _ in range(3))
    for holder, call in ((first, held), (other, also_held)):
        assignments.assign_calls(
            session, actor=actor_of(lead), recording_ids=[call.id], assignee_id=holder.id, today=date.today()
        )
    session.commit()
    login(client, lead)
    chosen = [free.id, held.id, also_held.id]

    refused = api_caller(client)(
        "POST", "/api/v1/assignments/bulk", 409, {"recording_ids": chosen, "assignee_id": second.id}
    )
    assert "2 of the chosen calls are on other supervisors' lists" in refused["message"]

    data = {"csrf_token": csrf_token(client, "/calls/"), "recording_id": chosen, "assignee_id": second.id}
    page = client.post("/calls/assign", data=data, follow_redirects=True)
    said = " ".join(visible_text(page.get_data(as_text=True)).split())
    assert "nothing was assigned" in said
    assert "2 of the chosen calls are on other supervisors' lists, not yet evaluated." in said
    assert assignments.count_assignments(session, actor=actor_of(lead), today=date.today(), assignee_id=second.id) == 0
