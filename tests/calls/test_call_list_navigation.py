"""Getting around: the menu by role, agents and scores as links, the call list's date range, times in the
organisation's time zone with UTC on hover."""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from recordings_service.config import Settings
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.search import evaluate, random_day, transcribed_call
from web import create_app


def test_menu_leads_qa_supervisors_to_evaluations_and_trends_but_not_trainers(
    client: FlaskClient, session: Session
) -> None:
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    menu = _menu(client.get("/account").get_data(as_text=True))
    assert 'href="/evaluations/"' in menu and 'href="/queues"' in menu

    login(client, make_user(session, role=Role.TRAINER))
    menu = _menu(client.get("/account").get_data(as_text=True))
    assert "/evaluations/" not in menu and "/queues" not in menu


def test_call_list_links_the_agent_to_their_page_and_hides_them_from_trainers(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    day = random_day()
    agent_ref = f"agent-{secrets.token_hex(4)}"
    call = transcribed_call(session, store, envelope, started_at=day, lines=["hi"], agent_ref=agent_ref)
    window = {"date_from": day.date().isoformat(), "date_to": day.date().isoformat()}

    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    row = _row(client.get("/calls/", query_string=window).get_data(as_text=True), call.id)
    assert f'<a href="/agents/{agent_ref}">{agent_ref}</a>' in row

    login(client, make_user(session, role=Role.TRAINER))
    row = _row(client.get("/calls/", query_string=window).get_data(as_text=True), call.id)
    assert agent_ref not in row and "/agents/" not in row  # a pseudonym, and no page a trainer may not open


def test_evaluations_list_newest_first_links_call_agent_and_score(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    agent_ref = f"agent-{secrets.token_hex(4)}"
    older_call = transcribed_call(session, store, envelope, started_at=random_day(), lines=["a"], agent_ref=agent_ref)
    newer_call = transcribed_call(session, store, envelope, started_at=random_day(), lines=["b"], agent_ref=agent_ref)
    older = evaluate(session, older_call, evaluator=supervisor, score=55.0)
    time.sleep(0.002)  # ids are ULIDs: a later millisecond sorts after
    newer = evaluate(session, newer_call, evaluator=supervisor, score=91.0)
    login(client, supervisor)

    response = client.get("/evaluations/")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.index(f"/evaluations/{newer.id}") < page.index(f"/evaluations/{older.id}")
    assert f'<a href="/evaluations/{newer.id}">91.0</a>' in page
    assert f'href="/calls/{newer_call.id}"' in page
    assert f'<a href="/agents/{agent_ref}">{agent_ref}</a>' in page
    assert f"<td>{supervisor.username}</td>" in page

    login(client, make_user(session, role=Role.TRAINER))
    assert client.get("/evaluations/").status_code == 403


def test_agent_page_links_each_score_to_its_evaluation(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    agent_ref = f"agent-{secrets.token_hex(4)}"
    call = transcribed_call(session, store, envelope, started_at=random_day(), lines=["a"], agent_ref=agent_ref)
    evaluation = evaluate(session, call, evaluator=supervisor, score=72.0)
    login(client, supervisor)

    page = client.get(f"/agents/{agent_ref}").get_data(as_text=True)

    assert f'<a href="/evaluations/{evaluation.id}">72.0</a>' in page


def test_inverted_date_range_is_refused_at_the_field_with_the_values_kept(
    client: FlaskClient, session: Session
) -> None:
    login(client, make_user(session, role=Role.QA_SUPERVISOR))

    response = client.get(
        "/calls/", query_string={"date_from": "2026-03-10", "date_to": "2026-03-01", "queue": "sales"}
    )

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    date_to = re.search(r'<input id="date_to"[^>]*>', page)
    assert date_to and 'aria-invalid="true"' in date_to[0] and 'aria-describedby="filter-error"' in date_to[0]
    assert 'value="2026-03-10"' in page and 'value="2026-03-01"' in page and 'value="sales"' in page
    # The message names the field as its label does, linking to it.
    assert 'id="filter-error" role="alert"><a href="#date_to">To</a>: must not be before the from date' in page
    assert '<table class="calls">' not in page  # not a silent empty list


@pytest.mark.parametrize(
    ("zone", "shown"),
    [("Europe/Helsinki", "2026-06-01 12:00"), ("UTC", "2026-06-01 09:00")],
)
def test_times_show_in_the_organisation_time_zone_with_utc_on_hover(
    zone: str,
    shown: str,
    settings: Settings,
    engine: Engine,
    sessions: sessionmaker[Session],
    store: S3ObjectStore,
    envelope: Envelope,
    session: Session,
) -> None:
    zoned = replace(settings, timezone=zone)
    runtime = Runtime(settings=zoned, engine=engine, sessions=sessions, store=store, envelope=envelope)
    app = create_app(zoned, runtime=runtime)
    app.config.update(TESTING=True)
    client = app.test_client()
    started = datetime(2026, 6, 1, 9, 0, second=secrets.randbelow(60), tzinfo=UTC)
    call = transcribed_call(session, store, envelope, started_at=started, lines=["hi"])
    login(client, make_user(session, role=Role.QA_SUPERVISOR))

    page = client.get(
        "/calls/", query_string={"date_from": "2026-06-01", "date_to": "2026-06-01"}, headers={"Accept-Language": "en"}
    ).get_data(as_text=True)

    iso = started.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f'<time datetime="{iso}" title="2026-06-01 09:00 UTC">{shown}</time>' in _row(page, call.id)


def test_times_read_finnish_in_finnish(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    started = datetime(2026, 6, 1, 9, 0, second=secrets.randbelow(60), tzinfo=UTC)
    call = transcribed_call(session, store, envelope, started_at=started, lines=["hi"])
    login(client, make_user(session, role=Role.QA_SUPERVISOR))

    page = client.get(
        "/calls/", query_string={"date_from": "2026-06-01", "date_to": "2026-06-01"}, headers={"Accept-Language": "fi"}
    ).get_data(as_text=True)

    assert 'title="2026-06-01 09:00 UTC">1.6.2026 klo 12.00</time>' in _row(page, call.id)


@pytest.mark.parametrize("value", ["Mars/Olympus_Mons", "", "../../etc/passwd"])
def test_a_bad_time_zone_is_refused_naming_the_variable(value: str) -> None:
    with pytest.raises(ValueError, match="CALLVAULT_TIMEZONE"):
        Settings.from_env({"CALLVAULT_TIMEZONE": value})


def _menu(page: str) -> str:
    start = page.index('<nav aria-label="Main">')
    return page[start : page.index("</nav>", start)]


def _row(page: str, recording_id: str) -> str:
    """The call list's row of one call (other tests' calls may share the day on SQLite)."""
    start = page.rindex("<tr>", 0, page.index(f'href="/calls/{recording_id}"'))
    return page[start : page.index("</tr>", start)]
