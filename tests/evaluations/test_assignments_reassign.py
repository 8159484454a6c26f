"""A lead hands an open assignment on (its supervisor is ill): the assignment moves to the new supervisor, off the
old one's list and the overdue list, audited; a done one, or one handed to someone who cannot evaluate, is refused.
Found by review: assigning the call again to another supervisor left the first assignment open, and overdue."""

from __future__ import annotations

from datetime import date, timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.evaluations import assignments, plans
from recordings_service.models import Assignment, AuditEvent, Recording
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, make_user, post_form
from tests.factories.assignments import WEEK, api_caller, call_in_week, make_plan, submitted
from tests.factories.evaluations import actor_of
from tests.factories.recordings import make_recording


def test_a_lead_reassigns_an_ill_supervisors_planned_call_through_the_api(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead, ill, stand_in = make_user(session), make_user(session), make_user(session)
    disabled, trainer = make_user(session, active=False), make_user(session, role=Role.TRAINER)
    call_in_week(session, store, envelope, agent_ref="a1")
    plan = make_plan(session, actor_of(lead), supervisors=[ill], calls_per_agent=1)
    [planned] = plans.fill_plan(session, actor=actor_of(lead), plan_id=plan.id, week=WEEK).assignments
    planned.due = date.today() - timedelta(days=3)  # overdue by now
    session.commit()
    login(client, lead)
    ask = api_caller(client)
    path = f"/api/v1/assignments/{planned.id}/reassign"

    for account in (disabled, trainer):
        assert ask("POST", path, 422, {"assignee_id": account.id})["field"] == "assignee_id"
    assert ask("POST", path, 422, {"assignee_id": ill.id})["field"] == "assignee_id"  # already theirs
    due = (date.today() + timedelta(days=5)).isoformat()
    moved = ask("POST", path, 200, {"assignee_id": stand_in.id, "due": due})

    assert (moved["id"], moved["assignee_id"], moved["due"], moved["overdue"]) == (planned.id, stand_in.id, due, False)
    assert (moved["plan_id"], moved["week"]) == (plan.id, WEEK)
    actor = actor_of(lead)
    today = date.today()
    assert assignments.list_assignments(session, actor=actor, today=today, assignee_id=ill.id) == []
    assert assignments.list_assignments(session, actor=actor, today=today, overdue_only=True) == []
    [theirs] = assignments.list_assignments(session, actor=actor, today=today, assignee_id=stand_in.id)
    assert theirs.assignment.id == planned.id
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "assignment.reassigned")).one()
    assert (event.actor_id, event.object_id) == (lead.id, planned.recording_id)
    assert (event.details["from"], event.details["to"], event.details["due"]) == (ill.id, stand_in.id, due)
    [row] = assignments.coverage(session, week=WEEK)
    assert (row.planned, row.evaluated) == (1, 0)

    submitted(session, session.get_one(Recording, planned.recording_id), stand_in)
    session.commit()
    assert ask("POST", path, 409, {"assignee_id": ill.id})["error"] == "conflict"  # done: it stays
    session.expire_all()
    assert session.get_one(Assignment, planned.id).assignee_id == stand_in.id
    assert ask("POST", "/api/v1/assignments/01JZZZZZZZZZZZZZZZZZZZZZZZ/reassign", 404, {"assignee_id": ill.id})


def test_a_lead_hands_on_a_disabled_supervisors_calls_on_the_assignments_page(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead = make_user(session, username="lead")
    leaver, stand_in = make_user(session, username="leaver"), make_user(session, username="stand-in")
    call = make_recording(session, store, envelope)
    [held] = assignments.assign_calls(
        session, actor=actor_of(lead), recording_ids=[call.id], assignee_id=leaver.id, today=date.today()
    ).assignments
    leaver.active = False
    session.commit()
    login(client, lead)

    listing = client.get(f"/assignments?assignee={leaver.id}").get_data(as_text=True)
    assert f'<option value="{leaver.id}" selected>' in listing  # a disabled account's open work can be found
    # The Reassign link brings the lead back to this list (`back`, test_assignments_reassign_back.py).
    assert f'href="/assignments/{held.id}/reassign?back=/assignments?assignee%3D{leaver.id}"' in listing
    page = f"/assignments/{held.id}/reassign"
    assert f'<option value="{leaver.id}"' not in client.get(page).get_data(as_text=True)
    refused = post_form(client, page, {"assignee_id": leaver.id}, token_from=page)
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.get_data(as_text=True)
    moved = post_form(client, page, {"assignee_id": stand_in.id, "due": "", "from": leaver.id}, token_from=page)

    assert moved.status_code == 302 and moved.headers["Location"] == f"/assignments?assignee={leaver.id}"
    session.expire_all()
    assert session.get_one(Assignment, held.id).assignee_id == stand_in.id
    assert "stand-in" in client.get("/assignments").get_data(as_text=True)  # the flash names who has it now


def test_my_list_pages_by_cursor_in_its_order(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    """Found by review: the list stopped at 200 assignments with no way to read on."""
    me = make_user(session)
    today = date.today()
    for due in (today + timedelta(days=3), None, today, today + timedelta(days=3), None, today + timedelta(days=1)):
        call = make_recording(session, store, envelope)
        assignments.assign_calls(
            session, actor=actor_of(me), recording_ids=[call.id], assignee_id=me.id, today=today, due=due
        )
    session.commit()
    login(client, me)
    ask = api_caller(client)
    whole = ask("GET", "/api/v1/assignments", 200)

    pages, cursor = [], ""
    while True:
        page = ask("GET", f"/api/v1/assignments?limit=4{cursor}", 200)
        pages.append(page["items"])
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"

    assert [len(items) for items in pages] == [4, 2] and whole["next_cursor"] is None
    assert [item["id"] for items in pages for item in items] == [item["id"] for item in whole["items"]]
    assert [item["due"] for item in whole["items"]][-2:] == [None, None]
    assert ask("GET", "/api/v1/assignments?cursor=nonsense", 422)["field"] == "cursor"
