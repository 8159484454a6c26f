"""The call list page: filter form, highlighted snippets linking to the moment in the call, pages, who sees what."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user
from tests.factories.recordings import FOR_TRAINING_TOO
from tests.factories.search import evaluate, random_day, transcribed_call


@pytest.fixture
def day() -> datetime:
    return random_day()


def window(day: datetime) -> dict[str, str]:
    return {"date_from": day.date().isoformat(), "date_to": day.date().isoformat()}


def test_search_shows_highlighted_snippets_linking_to_their_moment(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope, day: datetime
) -> None:
    call = transcribed_call(
        session, store, envelope, started_at=day, lines=["Hello.", "<b>Your</b> invoice number is wrong."]
    )
    login(client, make_user(session, role=Role.QA_SUPERVISOR))

    response = client.get("/calls/", query_string={"q": "invoice", **window(day)})

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert f'href="/calls/{call.id}?t=7.5"' in page
    assert "<mark>invoice</mark>" in page
    assert "<b>" not in page  # transcript text is escaped (SQLite) or its tags dropped (PostgreSQL's headline)
    assert "Not evaluated" in page
    # No inline script or style (the CSP refuses them); static scripts only.
    assert not re.search(r"<script(?![^>]*\bsrc=)", page) and "style=" not in page


def test_every_control_has_a_label(client: FlaskClient, session: Session) -> None:
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    page = client.get("/calls/").get_data(as_text=True)
    start = page.index('class="call-filters"')
    form = page[start : page.index("</form>", start)]
    controls = re.findall(r'<(?:input|select)[^>]*\bid="([^"]+)"', form)
    labels = set(re.findall(r'<label for="([^"]+)"', form))
    assert controls and set(controls) <= labels


def test_filters_evaluation_column_and_next_page(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope, day: datetime
) -> None:
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    calls = [
        transcribed_call(session, store, envelope, started_at=day + timedelta(minutes=i), lines=["hi"], queue="sales")
        for i in range(52)
    ]
    evaluate(session, calls[-1], evaluator=supervisor, score=87.0)
    login(client, supervisor)

    scored = client.get("/calls/", query_string={"evaluated": "yes", "score_min": "80", **window(day)})
    rows = scored.get_data(as_text=True).count(f'href="/calls/{calls[-1].id}"')
    assert rows == 1 and "<td>87.0</td>" in scored.get_data(as_text=True)

    first = client.get("/calls/", query_string={"queue": "sales", **window(day)}).get_data(as_text=True)
    next_link = re.search(r'href="([^"]+)" rel="next"', first)
    assert next_link
    second = client.get(next_link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert f"/calls/{calls[0].id}" in second and f"/calls/{calls[0].id}" not in first
    assert 'rel="next"' not in second


def test_bad_filter_input_is_shown_at_the_form(client: FlaskClient, session: Session) -> None:
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    response = client.get("/calls/", query_string={"score_min": "lots"})
    assert response.status_code == 422
    assert 'role="alert"' in response.get_data(as_text=True) and "score_min" in response.get_data(as_text=True)


def test_restricted_calls_are_hidden_and_trainers_see_no_snippets(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope, day: datetime
) -> None:
    # Recorded for training too: a trainer's words match only calls trainers may use.
    visible = transcribed_call(
        session, store, envelope, started_at=day, lines=["the password is swordfish"], purposes=FOR_TRAINING_TOO
    )
    restricted = transcribed_call(
        session, store, envelope, started_at=day + timedelta(minutes=1), lines=["swordfish again"], restricted=True
    )
    query = {"q": "swordfish", **window(day)}

    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    page = client.get("/calls/", query_string=query).get_data(as_text=True)
    assert visible.id in page and restricted.id not in page

    login(client, make_user(session, role=Role.COMPLIANCE))
    assert restricted.id in client.get("/calls/", query_string=query).get_data(as_text=True)

    login(client, make_user(session, role=Role.TRAINER))
    page = client.get("/calls/", query_string=query).get_data(as_text=True)
    # The trainer's own words come back in the form (and the forms that keep the search); no transcript text does.
    assert visible.id in page and "the password is" not in page and "<mark>" not in page


def test_navigation_links_to_the_call_list_by_permission(client: FlaskClient, session: Session) -> None:
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    assert 'href="/calls/"' in client.get("/account").get_data(as_text=True)
    login(client, make_user(session, role=Role.ADMIN))
    assert 'href="/calls/"' not in client.get("/account").get_data(as_text=True)


def test_a_score_is_listed_as_the_score_filters_read_it(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope, day: datetime
) -> None:
    """Found by review: a call scored 79.6 was listed as "80" yet left out by "Score to 80"'s neighbour "Score from
    80", and kept by "Score to 79.6": the list rounded to whole points what the filters compare to the decimal."""
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    call = transcribed_call(session, store, envelope, started_at=day, lines=["hi"], queue="sales")
    evaluate(session, call, evaluator=supervisor, score=79.6)
    login(client, supervisor)

    kept = client.get("/calls/", query_string={"score_max": "79.6", **window(day)}).get_data(as_text=True)
    assert f'href="/calls/{call.id}"' in kept and "<td>79.6</td>" in kept
    finnish = client.get("/calls/", query_string=window(day), headers={"Accept-Language": "fi"})
    assert "<td>79,6</td>" in finnish.get_data(as_text=True)
