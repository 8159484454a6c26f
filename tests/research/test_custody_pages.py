"""What the partner's batch page and the approval say once time has moved on: a batch closed inside its window,
the confirmation form after midnight where the organisation is, and a draft approved after its window ended."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.config import Settings
from recordings_service.db import utcnow
from recordings_service.errors import Conflict
from recordings_service.models import User
from recordings_service.models.research import BatchState
from recordings_service.research import batches
from recordings_service.runtime import Runtime
from tests.factories.accounts import login, make_user, post_form
from tests.factories.evaluations import actor_of
from tests.factories.research import downloaded, draft, institute, partner
from tests.factories.staff import client_of
from tests.factories.zones import app_in_zone


def test_a_batch_closed_inside_its_window_is_not_said_to_be_in_preparation(
    app: Flask, officer: User, session: Session, runtime: Runtime
) -> None:
    """Once compliance accepted the confirmation, the page said 'The package is being prepared; reload this page'."""
    lab = institute(session).id
    made = draft(session, runtime, officer, lab)
    made.state, made.closed_at = BatchState.CLOSED, utcnow()
    session.commit()

    page = client_of(app, partner(session, lab)).get(f"/partner/batches/{made.id}").get_data(as_text=True)

    assert "This batch is closed" in page and "/package" not in page
    assert "being prepared" not in page and "you confirm it here by" not in page


def test_the_confirmation_form_offers_the_organisations_today(
    settings: Settings, runtime: Runtime, session: Session, officer: User
) -> None:
    """The date field's default and maximum were today in UTC: from midnight to 2 or 3 in Helsinki the browser
    would not let the partner give the day the copies were destroyed."""
    zone = ZoneInfo("Etc/GMT+12" if datetime.now(UTC).hour < 12 else "Etc/GMT-14")
    app = app_in_zone(settings, runtime, zone.key)
    lab = institute(session).id
    made = draft(session, runtime, officer, lab)
    made.state = BatchState.READY
    downloaded(session, made)
    session.commit()
    client = app.test_client()
    login(client, partner(session, lab))
    today = datetime.now(zone).date().isoformat()
    assert today != datetime.now(UTC).date().isoformat()

    page = client.get(f"/partner/batches/{made.id}").get_data(as_text=True)

    assert f'name="confirmed_on" type="date" value="{today}" max="{today}"' in page


def test_a_draft_whose_window_ended_cannot_be_approved(session: Session, runtime: Runtime, officer: User) -> None:
    """Approved late, it was built and expired at once: the institute owed a confirmation (and got overdue
    reminders) for a package it could never download."""
    made = draft(session, runtime, officer, institute(session).id)
    made.access_end = utcnow() - timedelta(minutes=1)
    session.commit()
    approver = actor_of(make_user(session, role=officer.role))

    with pytest.raises(Conflict) as refused:
        batches.approve_batch(session, actor=approver, batch_id=made.id)

    assert refused.value.why == "window_over" and "access window ended" in refused.value.message
    assert made.state == BatchState.DRAFT


def test_the_batch_page_shows_the_selection_days_and_erasure_flags_as_its_other_times(
    officer_client: FlaskClient, officer: User, session: Session, runtime: Runtime
) -> None:
    """The calls' days were ISO text and an erasure flag's time was UTC cut to 'YYYY-MM-DDTHH:MM', on a page
    whose other times are the organisation's, in the reader's language."""
    made = draft(session, runtime, officer, institute(session).id)
    made.state = BatchState.READY
    made.follow_up = [
        {"request_id": "R1", "customer_pseudonyms": ["cust-1"], "flagged_at": "2026-12-04T05:00:00+00:00"}
    ]
    session.commit()

    page = officer_client.get(f"/research/batches/{made.id}", headers={"Accept-Language": "fi"}).get_data(as_text=True)

    assert '<time datetime="2026-11-01">1.11.2026</time>' in page and ">2026-11-01" not in page
    assert 'title="2026-12-04 05:00 UTC"' in page and "2026-12-04T05:00: cust-1" not in page and "cust-1" in page


@pytest.mark.parametrize("field, value", [("seed", "-1"), ("min_duration_s", "-3")])
def test_a_refused_batch_form_marks_the_field_it_names(
    officer_client: FlaskClient, officer: User, session: Session, field: str, value: str
) -> None:
    """The message was shown, but a refused seed or shortest duration was not marked on the form."""
    lab = institute(session).id
    session.commit()
    fields = {"study": "S", "purpose": "P", "institute_id": lab, "from": "2026-11-01", "to": "2026-11-30"}
    fields |= {"sample_size": "3", "seed": "1", "study_end": (utcnow() + timedelta(days=60)).date().isoformat()}
    start = utcnow() + timedelta(days=1)
    fields |= {"access_start": start.strftime("%Y-%m-%dT%H:%M"), "audio": "redacted"}
    fields |= {"access_end": (start + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"), field: value}

    response = post_form(officer_client, "/research/batches/new", fields, token_from="/research/batches/new")

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', page)


def test_the_metadata_a_partner_gets_is_named_in_the_readers_language(
    officer_client: FlaskClient, officer: User, session: Session, runtime: Runtime
) -> None:
    """The batch page and the form listed the keys (`started_at, duration_s`), in Finnish too."""
    made = draft(session, runtime, officer, institute(session).id)
    session.commit()
    finnish = {"Accept-Language": "fi"}

    page = officer_client.get(f"/research/batches/{made.id}", headers=finnish).get_data(as_text=True)
    form = officer_client.get("/research/batches/new", headers=finnish).get_data(as_text=True)

    assert "Puhelu, Asiakas, Asiakaspalvelija, Alkoi, Kesto, Suunta, Jono, Kieli" in page
    assert "started_at" not in page and "duration_s" not in page
    assert 'value="duration_s" checked> Kesto</label>' in form
