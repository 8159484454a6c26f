"""A lead choosing calls to assign looks for those on nobody's list: a bulk Assign of a call open on another
supervisor's list is refused (`held_by_another`), and the list's "On the list of" column only showed it page by page.
The call list, its API and the search service filter by it: `assigned` yes (open on someone's list: assigned, its
assignee has not submitted an evaluation of it) or no (on nobody's list, a call its assignee evaluated included)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.calls.search import search_calls
from recordings_service.evaluations.assignments import assign_calls
from recordings_service.models import Recording, User
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.evaluations import actor_of
from tests.factories.search import evaluate, on_day, random_day, transcribed_call


@pytest.fixture
def day() -> datetime:
    return random_day()


@pytest.fixture
def lead(session: Session) -> User:
    return make_user(session, role=Role.QA_SUPERVISOR)


@pytest.fixture
def calls(
    session: Session, store: S3ObjectStore, envelope: Envelope, day: datetime, lead: User
) -> dict[str, Recording]:
    """A call open on a supervisor's list, one its assignee evaluated, and one never assigned."""
    made = {
        name: transcribed_call(session, store, envelope, started_at=day + timedelta(minutes=n), lines=["Hello."])
        for n, name in enumerate(("open", "done", "never"))
    }
    holder = make_user(session, role=Role.QA_SUPERVISOR)
    for name in ("open", "done"):
        assign_calls(
            session, actor=actor_of(lead), recording_ids=[made[name].id], assignee_id=holder.id, today=date.today()
        )
    evaluate(session, made["done"], evaluator=holder, score=80.0)
    return made


def found(session: Session, day: datetime, lead: User, **filters: object) -> set[str]:
    page = search_calls(session, actor=actor_of(lead), filters=on_day(day, **filters), limit=50)
    return {item.recording.id for item in page.items}


def test_the_search_finds_calls_on_someones_list_and_on_nobodys(
    session: Session, calls: dict[str, Recording], day: datetime, lead: User
) -> None:
    assert found(session, day, lead, assigned=True) == {calls["open"].id}
    assert found(session, day, lead, assigned=False) == {calls["done"].id, calls["never"].id}
    assert found(session, day, lead) == {call.id for call in calls.values()}


def test_the_call_list_offers_it_to_those_who_assign_and_refuses_a_value_it_does_not_offer(
    client: FlaskClient, session: Session, calls: dict[str, Recording], day: datetime, lead: User
) -> None:
    login(client, lead)
    window = {"date_from": f"{day:%Y-%m-%d}", "date_to": f"{day:%Y-%m-%d}"}

    nobodys = client.get("/calls/", query_string={**window, "assigned": "no"})
    page = nobodys.get_data(as_text=True)
    assert nobodys.status_code == 200 and '<select id="assigned" name="assigned"' in page
    assert calls["never"].id in page and calls["done"].id in page and calls["open"].id not in page
    assert '<option value="no" selected>' in page

    someones = client.get("/calls/", query_string={**window, "assigned": "yes"}).get_data(as_text=True)
    assert calls["open"].id in someones and calls["never"].id not in someones

    refused = client.get("/calls/", query_string={**window, "assigned": "maybe"})
    assert refused.status_code == 422
    assert 'id="assigned" name="assigned" aria-invalid="true"' in refused.get_data(as_text=True)


def test_a_trainer_is_not_offered_it_and_a_typed_one_filters_nothing(
    client: FlaskClient, session: Session, calls: dict[str, Recording], day: datetime
) -> None:
    login(client, make_user(session, role=Role.TRAINER))
    window = {"date_from": f"{day:%Y-%m-%d}", "date_to": f"{day:%Y-%m-%d}"}

    page = client.get("/calls/", query_string={**window, "assigned": "no"}).get_data(as_text=True)

    assert 'name="assigned"' not in page
    assert all(call.id in page for call in calls.values())


def test_the_api_filters_by_it(
    client: FlaskClient, session: Session, calls: dict[str, Recording], day: datetime, lead: User
) -> None:
    login(client, lead)
    window = {"started_from": day.isoformat(), "started_to": (day + timedelta(days=1)).isoformat()}

    def listed(assigned: str) -> set[str]:
        response = client.get("/api/v1/search", query_string={**window, "assigned": assigned})
        assert response.status_code == 200, response.get_json()
        return {item["recording"]["id"] for item in response.get_json()["items"]}

    assert listed("false") == {calls["done"].id, calls["never"].id}
    assert listed("true") == {calls["open"].id}
    refused = client.get("/api/v1/search", query_string={**window, "assigned": "maybe"})
    assert refused.status_code == 422 and refused.get_json()["field"] == "assigned"
