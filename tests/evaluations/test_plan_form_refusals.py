"""Found by exploratory testing: the evaluation-plan form read "1_0" as 10 (Python's `int` takes underscores),
and its refusals read "Tarkista lomake: between 1 and 50" and "between 0 and 9223372036854775807" on a Finnish
page. A number is ASCII digits only, and each refusal is said in the reader's language.

Found by exploratory testing: the evaluation-plan form (and the plans' core) took a name over 200 characters
and a queue or agent over 100, the columns' widths. PostgreSQL refused the insert (a 500 page); SQLite kept the
plan, which the API then refused to change ("name: at most 200 characters" on any PATCH). Each is now refused
beside its field, and the plan is not saved."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.errors import Invalid
from recordings_service.evaluations import plans
from recordings_service.evaluations.plans import MAX_SEED
from recordings_service.models import EvaluationPlan, User
from tests.factories.accounts import login, make_user, post_form
from tests.factories.evaluations import actor_of
from tests.page_text import visible_text
from tests.web.reader_language import post_finnish

NEW_PLAN = "/assignments/plans/new"
TOO_LONG = {"name": "n" * 201, "queue": "q" * 101, "agent_ref": "a" * 101}


@pytest.fixture
def lead(client: FlaskClient, session: Session) -> User:
    lead = make_user(session)
    session.commit()
    login(client, lead)
    return lead


def fields(lead: User, **changes: str) -> dict[str, str]:
    return {"name": "Myynti", "queue": "sales", "calls_per_agent": "2", "seed": "", "supervisor_ids": lead.id} | changes


@pytest.mark.parametrize("typed", [{"calls_per_agent": "1_0"}, {"seed": "4_2"}, {"calls_per_agent": "١٠"}])
def test_a_number_with_an_underscore_or_other_digits_is_refused(
    client: FlaskClient, session: Session, lead: User, typed: dict[str, str]
) -> None:
    refused = post_form(client, NEW_PLAN, fields(lead, **typed), token_from=NEW_PLAN)
    assert refused.status_code == 422
    (name,) = typed
    assert f'id="{name}-error"' in refused.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(EvaluationPlan)) == 0


def test_calls_per_agent_out_of_range_is_refused_in_finnish(client: FlaskClient, lead: User) -> None:
    refused = post_finnish(client, NEW_PLAN, fields(lead, calls_per_agent="99"), token_from=NEW_PLAN)
    text = visible_text(refused.get_data(as_text=True))
    assert refused.status_code == 422
    assert "anna luku väliltä 1–50" in text and "between" not in text


def test_a_seed_too_large_is_refused_in_words_a_reader_follows(client: FlaskClient, lead: User) -> None:
    refused = post_finnish(client, NEW_PLAN, fields(lead, seed=str(MAX_SEED + 1)), token_from=NEW_PLAN)
    text = visible_text(refused.get_data(as_text=True))
    assert refused.status_code == 422
    assert "satunnaissiemen on liian suuri" in text and str(MAX_SEED) not in text and "between" not in text


def test_a_drawn_seed_of_nineteen_digits_is_kept_when_the_plan_is_saved_again(
    client: FlaskClient, session: Session, lead: User
) -> None:
    saved = post_form(client, NEW_PLAN, fields(lead, seed=str(MAX_SEED)), token_from=NEW_PLAN)
    assert saved.status_code == 302
    assert session.scalars(select(EvaluationPlan)).one().seed == MAX_SEED


def test_a_plan_without_a_name_or_queue_is_refused_in_finnish(client: FlaskClient, lead: User) -> None:
    nameless = post_finnish(client, NEW_PLAN, fields(lead, name=" "), token_from=NEW_PLAN)
    assert nameless.status_code == 422
    assert "anna suunnitelmalle nimi" in visible_text(nameless.get_data(as_text=True))
    queueless = post_finnish(client, NEW_PLAN, fields(lead, queue=""), token_from=NEW_PLAN)
    assert "anna jono tai asiakaspalvelija" in visible_text(queueless.get_data(as_text=True))


@pytest.mark.parametrize("name", sorted(TOO_LONG))
def test_a_text_longer_than_its_column_is_refused_beside_its_field(
    client: FlaskClient, session: Session, lead: User, name: str
) -> None:
    refused = post_form(client, NEW_PLAN, fields(lead, **{name: TOO_LONG[name]}), token_from=NEW_PLAN)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert f'id="{name}-error"' in page
    assert "at most" in visible_text(page)
    assert session.scalar(select(func.count()).select_from(EvaluationPlan)) == 0


def test_the_longest_texts_the_columns_hold_are_kept(client: FlaskClient, session: Session, lead: User) -> None:
    longest = {"name": "n" * 200, "queue": "q" * 100, "agent_ref": "a" * 100}
    saved = post_form(client, NEW_PLAN, fields(lead, **longest), token_from=NEW_PLAN)
    assert saved.status_code == 302
    plan = session.scalars(select(EvaluationPlan)).one()
    assert (plan.name, plan.queue, plan.agent_ref) == (longest["name"], longest["queue"], longest["agent_ref"])


def test_the_plans_core_refuses_a_name_too_long(session: Session, lead: User) -> None:
    data = plans.PlanInput(name="n" * 201, queue="sales", agent_ref=None, calls_per_agent=2, supervisor_ids=[lead.id])
    with pytest.raises(Invalid) as refused:
        plans.create_plan(session, actor=actor_of(lead), data=data)
    assert refused.value.field == "name"


def test_a_supervisor_disabled_meanwhile_is_refused_in_finnish(
    client: FlaskClient, session: Session, lead: User
) -> None:
    """Found by exploratory testing: a supervisor ticked on the open form and disabled meanwhile was refused as
    "Tarkista lomake: … cannot evaluate calls" (and an account removed as "no account 01…") on a Finnish page."""
    gone = make_user(session)
    gone.active = False
    session.commit()
    refused = post_finnish(client, NEW_PLAN, fields(lead, supervisor_ids=gone.id), token_from=NEW_PLAN)
    text = visible_text(refused.get_data(as_text=True))
    assert refused.status_code == 422
    assert "ei voi enää arvioida puheluita" in text and "cannot evaluate" not in text
