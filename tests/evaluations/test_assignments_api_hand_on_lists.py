"""`GET /api/v1/assignments` gives a lead the lists the assignments page hands calls on from: a supervisor's
(`assignee_id`) and the overdue ones (`overdue=true`, everyone's or that supervisor's), a page at a time as the own
list goes. Bad values are refused naming the field; a caller without the permission is refused and audited."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models import Assignment, Recording
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.assignments import api_caller, on_list, submitted, walk
from tests.factories.audit import events


def test_a_lead_reads_a_supervisors_list_and_the_overdue_ones_a_page_at_a_time(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    lead, maija, pekka = make_user(session), make_user(session), make_user(session)
    mine = on_list(session, store, envelope, to=lead, by=lead, dues=[2])
    hers = on_list(session, store, envelope, to=maija, by=lead, dues=[-9, 3, -2, 5])
    his = on_list(session, store, envelope, to=pekka, by=lead, dues=[-5, 1])
    done = on_list(session, store, envelope, to=pekka, by=lead, dues=[-7])
    submitted(session, session.get_one(Recording, session.get_one(Assignment, done[-7]).recording_id), pekka)
    maija.active = False  # a disabled supervisor's open work is what most needs handing on
    session.commit()
    login(client, lead)
    ask = api_caller(client)

    assert walk(ask, "include_done=false", 5) == [[mine[2]]]  # as before: my own list
    assert walk(ask, f"assignee_id={maija.id}", 3) == [[hers[-9], hers[-2], hers[3]], [hers[5]]]
    assert walk(ask, f"assignee_id={maija.id}&overdue=true", 5) == [[hers[-9], hers[-2]]]
    assert walk(ask, "overdue=true", 2) == [[hers[-9], his[-5]], [hers[-2]]]
    everyone = ask("GET", "/api/v1/assignments?overdue=true", 200)["items"]
    assert {item["assignee_id"] for item in everyone} == {maija.id, pekka.id}
    assert all(item["overdue"] and not item["done"] for item in everyone)
    with_done = ask("GET", f"/api/v1/assignments?assignee_id={pekka.id}&include_done=true", 200)["items"]
    assert [item["id"] for item in with_done] == [done[-7], his[-5], his[1]]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("assignee_id=", "assignee_id"),
        ("assignee_id=" + "X" * 27, "assignee_id"),
        ("assignee_id=01JZZZZZZZZZZZZZZZZZZZZZZZ", "assignee_id"),  # no such account
        ("overdue=perhaps", "overdue"),
        ("overdue=true&cursor=nonsense", "cursor"),
        ("assignee_id={other}&limit=0", "limit"),
    ],
)
def test_bad_values_are_refused_naming_the_field(client: FlaskClient, session: Session, query: str, field: str) -> None:
    lead, other = make_user(session), make_user(session)
    session.commit()
    login(client, lead)

    refused = api_caller(client)("GET", "/api/v1/assignments?" + query.format(other=other.id), 422)

    assert refused["field"] == field


def test_a_caller_who_may_not_hand_on_work_is_refused_anothers_list_and_the_refusal_audited(
    client: FlaskClient, session: Session
) -> None:
    trainer, supervisor = make_user(session, role=Role.TRAINER), make_user(session)
    session.commit()
    login(client, trainer)

    for query in (f"assignee_id={supervisor.id}", "overdue=true"):
        refused = client.get(f"/api/v1/assignments?{query}")
        assert refused.status_code == 403 and refused.get_json()["error"] == "forbidden"

    denied = [event for event in events(session, "access.denied") if event.actor_id == trainer.id]
    assert [event.details["endpoint"] for event in denied] == ["assignments_api.list_my_assignments"] * 2


def test_the_openapi_spec_documents_both_parameters(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    listing = spec["paths"]["/api/v1/assignments"]["get"]
    described = {param["name"]: param.get("description", "") for param in listing["parameters"]}

    assert "supervisor's list" in described["assignee_id"] and "past their due date" in described["overdue"]
    assert {"200", "403", "422"} <= set(listing["responses"])
