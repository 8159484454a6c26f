"""An evaluation plan's name is one line of visible text, as the rule for all free text has it
(`recordings_service.written_text`). Found in a sweep of the free-text fields: a plan named with a zero-width space
alone, a bidi override (U+202E) or an escape was saved as typed, shown as nothing or turned round on the assignments
page and in every "Plan … saved"; and the API counted a name's 200 characters with the whitespace around it, which
is not kept. Refused, 422 `invalid_character` naming `name`, in the reader's language on the page; a plan named so
before stays editable, its name sent back as stored."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.evaluations import plans
from recordings_service.models import EvaluationPlan, User
from recordings_service.models.account import Role
from tests.factories.accounts import csrf_token, make_user
from tests.factories.staff import client_of
from tests.web.reader_language import ENGLISH, FINNISH, post_as, shown_after

INVISIBLE = {"zero-width space": "\u200b", "bidi override": "Myynti \u202e49", "escape": "Myynti\x1b", "tab": "a\tb"}
SAID = {"fi": "tämä on yksi rivi näkyvää tekstiä", "en": "this is one line of visible text"}
NEW_PLAN = "/assignments/plans/new"


@pytest.fixture
def lead(session: Session) -> User:
    made = make_user(session, role=Role.QA_SUPERVISOR)
    session.commit()
    return made


def api(app: Flask, lead: User) -> tuple[FlaskClient, dict[str, str]]:
    client = client_of(app, lead)
    return client, {"X-CSRFToken": csrf_token(client, NEW_PLAN)}


def plan_body(lead: User, name: str) -> dict[str, Any]:
    return {"name": name, "queue": "sales", "calls_per_agent": 2, "supervisor_ids": [lead.id]}


@pytest.mark.parametrize("typed", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_a_name_holding_an_invisible_character_is_refused_naming_it(
    app: Flask, session: Session, lead: User, typed: str
) -> None:
    client, csrf = api(app, lead)

    made = client.post("/api/v1/evaluation-plans", json=plan_body(lead, typed), headers=csrf)

    assert made.status_code == 422, made.get_json()
    assert (made.get_json()["error"], made.get_json()["field"]) == ("invalid_character", "name")
    assert session.scalar(select(EvaluationPlan.id)) is None


def test_a_name_is_counted_as_kept(app: Flask, session: Session, lead: User) -> None:
    client, csrf = api(app, lead)
    name = "n" * plans.MAX_NAME_CHARS

    made = client.post("/api/v1/evaluation-plans", json=plan_body(lead, f" {name}\n"), headers=csrf)

    assert made.status_code == 201, made.get_json()
    assert session.scalars(select(EvaluationPlan.name)).one() == name


def test_a_plan_named_so_before_stays_editable(app: Flask, session: Session, lead: User) -> None:
    client, csrf = api(app, lead)
    made = client.post("/api/v1/evaluation-plans", json=plan_body(lead, "Myynti"), headers=csrf)
    plan = session.get_one(EvaluationPlan, made.get_json()["id"])
    plan.name = "Myynti \u202e49"
    session.commit()

    path = f"/api/v1/evaluation-plans/{plan.id}"
    paused = client.patch(path, json={"active": False}, headers=csrf)
    assert paused.status_code == 200, paused.get_json()
    form = {"name": "Myynti \u202e49", "queue": "sales", "calls_per_agent": "3", "seed": "", "supervisor_ids": lead.id}
    edited = post_as(client, f"/assignments/plans/{plan.id}", form, token_from=NEW_PLAN)
    assert edited.status_code == 302
    renamed = client.patch(path, json={"name": "Myynti\x1b"}, headers=csrf)
    assert (renamed.status_code, renamed.get_json()["field"]) == (422, "name")
    session.expire_all()
    assert (plan.name, plan.calls_per_agent, plan.active) == ("Myynti \u202e49", 3, False)


@pytest.mark.parametrize(("headers", "lang"), [(FINNISH, "fi"), (ENGLISH, "en")], ids=["fi", "en"])
def test_the_page_says_so_in_the_readers_language(
    app: Flask, session: Session, lead: User, headers: dict[str, str], lang: str
) -> None:
    client = client_of(app, lead)
    form = {"name": "Myynti \u202e49", "queue": "sales", "calls_per_agent": "2", "seed": "", "supervisor_ids": lead.id}

    sent = post_as(client, NEW_PLAN, form, token_from=NEW_PLAN, headers=headers)

    assert sent.status_code == 422
    assert SAID[lang] in shown_after(client, sent, headers=headers)
    assert session.scalar(select(EvaluationPlan.id)) is None
