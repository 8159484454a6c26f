"""`GET /api/v1/evaluations`: the evaluations list for integrators (QA reporting, BI), filtered and paged, as the
evaluations page lists them to its reader. Found by an integrator's review: with a `read` or `evaluation` token
nobody could fetch the week's scores without knowing every evaluation's id."""

from __future__ import annotations

import secrets
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from recordings_service.db import key_cursor
from recordings_service.evaluations.forms import FormSpec
from recordings_service.evaluations.history import EvaluationFilters, list_evaluations
from recordings_service.models import Evaluation, Recording, User
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.audit import events, newest_seq
from tests.factories.evaluations import (
    SMALL_FORM,
    actor_of,
    evaluation_token,
    make_agent_user,
    published_form,
    released,
    scored_call,
)
from tests.factories.pages import pages
from tests.factories.recordings import make_token

PATH = "/api/v1/evaluations"
OTHER_FORM = FormSpec(name="Other form", sections=SMALL_FORM.sections)


def unique(prefix: str) -> str:
    """A queue or agent no other test uses: SQLite test transactions are not always rolled back (conftest)."""
    return f"{prefix}-{secrets.token_hex(4)}"


def listed(client: FlaskClient, headers: dict[str, str], query: dict[str, str]) -> dict[str, Any]:
    response = client.get(PATH, query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def ids(client: FlaskClient, headers: dict[str, str], query: dict[str, str]) -> list[str]:
    return [item["id"] for item in listed(client, headers, query)["items"]]


def refused(response: Any, status: int, code: str, field: str | None) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["error"], body.get("field")) == (code, field), body


def test_each_filter_narrows_the_list_and_queue_and_agent_match_in_any_letter_case_and_unicode_form(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    form, other_form = (
        published_form(session, actor_of(supervisor)),
        published_form(session, actor_of(supervisor), OTHER_FORM),
    )
    queue, other_queue, agent = unique("Sähkö"), unique("sales"), unique("Äijä")
    made = {"session": session, "store": store, "envelope": envelope, "evaluator": supervisor}
    first = scored_call(**made, form=form, queue=queue, agent_ref=agent)
    on_other_form = scored_call(**made, form=other_form, queue=queue, agent_ref=unique("agent"))
    # The agent's calls in another queue, sent in lower case and decomposed (a + U+0308), as a Mac or a PDF gives it.
    elsewhere = scored_call(**made, form=form, queue=other_queue, agent_ref=unicodedata.normalize("NFD", agent.lower()))
    draft = scored_call(**made, form=form, queue=queue, agent_ref=agent, submit=False)
    login(client, supervisor)

    by_queue = ids(client, {}, {"queue": f"  {queue.upper()} "})
    assert by_queue == [draft.id, on_other_form.id, first.id]  # newest first
    assert ids(client, {}, {"agent_ref": agent.upper()}) == [draft.id, elsewhere.id, first.id]
    assert ids(client, {}, {"form_id": other_form.id}) == [on_other_form.id]
    assert ids(client, {}, {"queue": queue, "state": "submitted"}) == [on_other_form.id, first.id]
    assert ids(client, {}, {"queue": queue, "state": "draft"}) == [draft.id]
    assert ids(client, {}, {"recording_id": elsewhere.recording_id}) == [elsewhere.id]
    assert ids(client, {}, {"queue": other_queue, "form_id": other_form.id}) == []

    item = listed(client, {}, {"recording_id": first.recording_id})["items"][0]
    assert item["form"] == {"id": form.id, "family_id": form.family_id, "name": form.name, "version": 1}
    assert (item["agent_ref"], item["queue"], item["evaluator"]) == (agent, queue, supervisor.username)
    assert (item["state"], item["version"], item["score"], item["critical_failed"]) == ("submitted", 1, 87.5, False)
    assert item["submitted_at"] and item["released_at"] is None and item["dispute_state"] is None
    assert "answers" not in item and "comment" not in item  # `GET /evaluations/<id>` has them


def test_the_window_on_submitted_at_takes_its_start_and_not_its_end(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    form = published_form(session, actor_of(supervisor))
    queue = unique("window")
    start = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    made = {"session": session, "store": store, "envelope": envelope, "evaluator": supervisor, "form": form}
    dated = {}
    for offset in (-1, 0, 3599, 3600):
        evaluation = scored_call(**made, queue=queue, agent_ref=unique("agent"))
        moment = start + timedelta(seconds=offset)
        session.execute(update(Evaluation).where(Evaluation.id == evaluation.id).values(submitted_at=moment))
        dated[offset] = evaluation.id
    login(client, supervisor)

    window = {"submitted_from": start.isoformat(), "submitted_to": (start + timedelta(hours=1)).isoformat()}
    assert ids(client, {}, {"queue": queue, **window}) == [dated[3599], dated[0]]
    assert ids(client, {}, {"queue": queue, "submitted_from": start.isoformat()}) == [
        dated[3600],
        dated[3599],
        dated[0],
    ]
    assert ids(client, {}, {"queue": queue, "submitted_to": start.isoformat()}) == [dated[-1]]

    backwards = {"submitted_from": window["submitted_to"], "submitted_to": window["submitted_from"]}
    refused(client.get(PATH, query_string=backwards), 422, "out_of_range", "submitted_to")
    empty = {"submitted_from": start.isoformat(), "submitted_to": start.isoformat()}
    refused(client.get(PATH, query_string=empty), 422, "out_of_range", "submitted_to")
    refused(
        client.get(PATH, query_string={"submitted_from": "2026-11-30T09:00:00"}),
        422,
        "timezone_required",
        "submitted_from",
    )


def test_paging_lists_each_evaluation_once_while_another_is_added_and_refuses_another_lists_cursor(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    form = published_form(session, actor_of(supervisor))
    queue = unique("paged")
    made = {"session": session, "store": store, "envelope": envelope, "evaluator": supervisor, "form": form}
    existing = [scored_call(**made, queue=queue, agent_ref=unique("agent")).id for _ in range(5)]
    login(client, supervisor)

    seen: list[str] = []
    for number, page in enumerate(pages(lambda query: listed(client, {}, query), {"queue": queue, "limit": "2"})):
        seen += [item["id"] for item in page["items"]]
        if number == 0:
            scored_call(**made, queue=queue, agent_ref=unique("agent"))  # begun while the list is read
    assert seen == sorted(existing, reverse=True)

    last = sorted(existing)[0]
    for cursor in (
        last,  # the evaluations page's cursor before 2026-12-08: a bare id, which any list's id would pass for
        key_cursor("deletions", datetime.now(UTC).isoformat(), last),
        key_cursor(datetime.now(UTC).isoformat(), last),  # `GET /feedback`'s
        key_cursor("evaluations", "not-an-id"),
    ):
        refused(client.get(PATH, query_string={"cursor": cursor}), 422, "invalid_cursor", "cursor")
    for limit in ("0", "201"):
        assert client.get(PATH, query_string={"limit": limit}).status_code == 422


def test_a_restricted_calls_evaluation_is_listed_to_compliance_only_and_a_draft_to_its_evaluator_only(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    supervisor, colleague = make_user(session, role=Role.QA_SUPERVISOR), make_user(session, role=Role.QA_SUPERVISOR)
    officer = make_user(session, role=Role.COMPLIANCE)
    form = published_form(session, actor_of(supervisor))
    queue = unique("hidden")
    made = {"session": session, "store": store, "envelope": envelope, "evaluator": supervisor, "form": form}
    restricted = scored_call(**made, queue=queue, agent_ref=unique("agent"))
    session.execute(update(Recording).where(Recording.id == restricted.recording_id).values(restricted=True))
    submitted = scored_call(**made, queue=queue, agent_ref=unique("agent"))
    draft = scored_call(**made, queue=queue, agent_ref=unique("agent"), submit=False)

    def listed_to(user: User, **query: str) -> list[str]:
        login(client, user)
        return ids(client, {}, {"queue": queue, **query})

    assert listed_to(supervisor) == [draft.id, submitted.id]
    assert listed_to(colleague) == [submitted.id]
    assert listed_to(colleague, state="draft") == []
    assert listed_to(colleague, recording_id=draft.recording_id) == []
    assert listed_to(officer) == [submitted.id, restricted.id]


def test_an_agent_is_listed_only_the_evaluations_released_to_them_and_the_api_is_not_theirs(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    supervisor, colleague = make_user(session, role=Role.QA_SUPERVISOR), make_user(session, role=Role.QA_SUPERVISOR)
    form = published_form(session, actor_of(supervisor))
    agent_ref, queue = unique("agent"), unique("agents")
    agent = make_agent_user(session, agent_ref)
    made = {"session": session, "store": store, "envelope": envelope, "form": form, "queue": queue}
    mine = scored_call(**made, evaluator=supervisor, agent_ref=agent_ref)
    call = session.get(Recording, mine.recording_id)
    assert call is not None
    shown = released(session, supervisor, form, call, ["yes", "4", "yes"])
    # A second evaluator's score of the same call, not released: the agent sees the call, not this evaluation.
    unreleased = scored_call(**made, evaluator=colleague, agent_ref=agent_ref)
    session.execute(update(Evaluation).where(Evaluation.id == unreleased.id).values(recording_id=call.id))
    scored_call(**made, evaluator=supervisor, agent_ref=agent_ref)  # their call, nothing released
    someone_elses = scored_call(**made, evaluator=supervisor, agent_ref=unique("agent"))
    released(session, supervisor, form, session.get(Recording, someone_elses.recording_id), ["yes", "4", "yes"])  # type: ignore[arg-type]

    page = list_evaluations(session, actor=actor_of(agent), filters=EvaluationFilters(queue=queue))
    assert [item.evaluation.id for item in page.items] == [shown.id]
    assert client.get(PATH, headers=evaluation_token(session, agent)).status_code == 403


def test_unknown_and_invalid_parameters_are_refused_naming_them(client: FlaskClient, session: Session) -> None:
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    refused(client.get(PATH, query_string={"agent": "agent-7"}), 422, "unknown_field", "agent")
    assert client.get(PATH, query_string={"state": "released"}).get_json()["field"] == "state"
    refused(client.get(PATH, query_string={"queue": "  "}), 422, "invalid_length", "queue")
    assert client.get(PATH, query_string={"recording_id": "x" * 27}).get_json()["field"] == "recording_id"


@pytest.mark.parametrize(
    ("role", "scope", "status"),
    [
        (Role.QA_SUPERVISOR, "evaluation", 200),
        (Role.COMPLIANCE, "evaluation", 200),
        (Role.QA_SUPERVISOR, "read", 403),  # the `read` scope holds no `evaluation.read` (permissions.TOKEN_SCOPES)
        (Role.SERVICE, "ingest", 403),
        (Role.TRAINER, "training", 403),
    ],
)
def test_tokens_list_as_the_permission_table_grants(
    client: FlaskClient, session: Session, role: str, scope: str, status: int
) -> None:
    token = make_token(session, role=role, scope=scope)
    response = client.get(PATH, query_string={"limit": "1"}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == status, response.get_json()


def test_an_evaluation_token_names_agents_as_the_single_evaluation_does_and_filters_by_them(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    """An `evaluation` token read each evaluation's agent ref (`GET /evaluations/<id>`) but, without `agent.read`,
    listed the same evaluations under a pseudonym and was refused the `agent_ref` filter (403): a weekly export by
    agent could not be made with it."""
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    form = published_form(session, actor_of(supervisor))
    agent, other, queue = unique("agent"), unique("agent"), unique("named")
    made = {"session": session, "store": store, "envelope": envelope, "evaluator": supervisor, "form": form}
    one, two = (scored_call(**made, queue=queue, agent_ref=agent) for _ in range(2))
    scored_call(**made, queue=queue, agent_ref=other)
    token = evaluation_token(session, supervisor)

    items = listed(client, token, {"queue": queue, "agent_ref": agent.upper()})["items"]

    assert [item["id"] for item in items] == [two.id, one.id]
    assert {item["agent_ref"] for item in items} == {agent}
    single = client.get(f"{PATH}/{one.id}", headers=token).get_json()
    assert single["agent_ref"] == items[1]["agent_ref"]


def test_each_page_is_audited_with_counts_and_the_filters_names_only(
    client: FlaskClient, session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    form = published_form(session, actor_of(supervisor))
    queue = unique("audited")
    made = {"session": session, "store": store, "envelope": envelope, "evaluator": supervisor, "form": form}
    for _ in range(3):
        scored_call(**made, queue=queue, agent_ref=unique("agent"))
    headers = evaluation_token(session, supervisor)
    after = newest_seq(session)

    first = listed(client, headers, {"queue": queue, "state": "submitted", "limit": "2"})
    listed(client, headers, {"queue": queue, "state": "submitted", "limit": "2", "cursor": first["next_cursor"]})

    written = [event for event in events(session, "evaluation.listed", after=after) if event.actor_id == supervisor.id]
    assert [event.details for event in written] == [
        {"results": 2, "next_page": False, "filters": ["queue", "state"]},
        {"results": 1, "next_page": True, "filters": ["queue", "state"]},
    ]
    assert {(event.object_type, event.object_id) for event in written} == {("evaluation", None)}


def test_the_list_is_documented(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/evaluations"]["get"]
    assert operation["operationId"] == "evaluations_api.list_evaluations"
    assert operation["tags"] == ["evaluations"]
    parameters = {parameter["name"] for parameter in operation["parameters"]}
    assert parameters == {
        "submitted_from",
        "submitted_to",
        "queue",
        "agent_ref",
        "form_id",
        "state",
        "recording_id",
        "cursor",
        "limit",
    }
    assert set(operation["responses"]) >= {"200", "403", "422"}


def test_the_api_docs_say_an_evaluation_token_names_agents(client: FlaskClient) -> None:
    """The list's schema said an `evaluation` token has no `agent.read` (a pseudonym) after the scope was given it."""
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    item = next(schema for name, schema in schemas.items() if name.startswith("EvaluationItemOut"))
    described = item["properties"]["agent_ref"]["description"]

    assert "`evaluation` token" in described and "has no `agent.read`" not in described
