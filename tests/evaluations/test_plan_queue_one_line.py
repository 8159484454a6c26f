"""A plan's queue or agent is one line of visible text, as every call's is (ingest refuses a line break, a tab, an
escape or a zero-width space in them). Found by an exploratory pass over odd text: a plan of the queue
"billing\\u200b" (pasted with the invisible character) or "bill\\ning" was saved, 201 on the API and on the page,
and then filled nothing, week after week, and said nothing, since no call can be of that queue."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.models import EvaluationPlan
from recordings_service.models.account import Role
from tests.factories.accounts import login, make_user
from tests.factories.evaluations import evaluation_token
from tests.page_text import visible_text
from tests.web.reader_language import post_finnish

INVISIBLE = ["billing\u200b", "bill\ning", "bill\ting", "bill\x1b[2Jing", "\u202ebilling"]
NEW_PLAN = "/assignments/plans/new"


def plans_saved(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(EvaluationPlan)) or 0


@pytest.mark.parametrize("field", ["queue", "agent_ref"])
@pytest.mark.parametrize("typed", INVISIBLE)
def test_the_api_refuses_an_invisible_character_in_a_plans_queue_or_agent(
    client: FlaskClient, session: Session, field: str, typed: str
) -> None:
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    headers = evaluation_token(session, supervisor)
    session.commit()
    body = {"name": "Billing", "calls_per_agent": 2, "supervisor_ids": [supervisor.id], field: typed}

    created = client.post("/api/v1/evaluation-plans", json=body, headers=headers)

    assert created.status_code == 422, created.get_json()
    assert (created.get_json()["error"], created.get_json()["field"]) == ("invalid_character", field)
    assert plans_saved(session) == 0


def test_a_change_to_such_a_queue_is_refused_and_the_plan_kept(client: FlaskClient, session: Session) -> None:
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    headers = evaluation_token(session, supervisor)
    session.commit()
    body = {"name": "Billing", "queue": "Sähkö", "calls_per_agent": 2, "supervisor_ids": [supervisor.id]}
    created = client.post("/api/v1/evaluation-plans", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    path = f"/api/v1/evaluation-plans/{created.get_json()['id']}"

    changed = client.patch(path, json={"queue": "Sähkö\u200b"}, headers=headers)

    assert (changed.status_code, changed.get_json()["field"]) == (422, "queue")
    listed = client.get("/api/v1/evaluation-plans", headers=headers).get_json()["items"]
    assert [plan["queue"] for plan in listed] == ["Sähkö"]


def test_the_plan_form_says_so_beside_the_queue_in_finnish(client: FlaskClient, session: Session) -> None:
    lead = make_user(session)
    session.commit()
    login(client, lead)
    typed = {"name": "Laskutus", "queue": "laskutus\u200b", "calls_per_agent": "2", "seed": ""}
    typed["supervisor_ids"] = lead.id

    refused = post_finnish(client, NEW_PLAN, typed, token_from=NEW_PLAN)

    assert refused.status_code == 422
    assert 'id="queue-error"' in refused.get_data(as_text=True)
    assert "jono tai agentti on yksi rivi näkyvää tekstiä" in visible_text(refused.get_data(as_text=True))
    assert plans_saved(session) == 0
