"""The selection form's access window is typed on the organisation's clock (Europe/Helsinki here), which skips an hour
on the last Sunday of March and passes one twice on the last Sunday of October. Found by a probe: 03:30 on the March
day (no such time) was stored as 04:30 without a word, and a copied batch whose window ended at the second 03:30 of the
October day was saved again an hour earlier (the form showed 03:30 and read it as the first)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.db import utcnow
from recordings_service.models import ResearchBatch
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.accounts import csrf_token, make_user
from tests.factories.research import draft, institute

NEW_BATCH = "/research/batches/new"
FINNISH = {"Accept-Language": "fi"}


def _last_sunday(year: int, month: int) -> date:
    last = date(year, month + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - 6) % 7)


def _form(officer_client: FlaskClient, institute_id: str, **window: str) -> dict[str, str]:
    year = utcnow().year + 1
    return {
        "study": "Kellonsiirto",
        "purpose": "Miten laskut selitetään",
        "institute_id": institute_id,
        "from": "2026-11-01",
        "to": "2026-11-30",
        "sample_size": "10",
        "seed": "7",
        "study_end": f"{year}-12-31",
        "access_start": f"{year}-01-15T10:00",
        "access_end": f"{year}-02-15T10:00",
        "audio": "redacted",
        "csrf_token": csrf_token(officer_client, NEW_BATCH),
        **window,
    }


def test_a_time_the_clocks_skip_is_refused_naming_its_field(officer_client: FlaskClient, session: Session) -> None:
    lab = institute(session)
    session.commit()
    day = _last_sunday(utcnow().year + 1, 3)
    skipped = f"{day.isoformat()}T03:30"
    window = {"access_start": skipped, "access_end": f"{day.year}-04-30T10:00"}

    response = officer_client.post(NEW_BATCH, data=_form(officer_client, lab.id, **window), headers=FINNISH)

    page = response.get_data(as_text=True)
    assert response.status_code == 422, page
    error = re.search(r'<p class="flash error" role="alert" id="form-error">([^<]*)</p>', page)
    assert error is not None, page
    assert error.group(1).startswith("Lataus sallittu alkaen: ") and "ei ole olemassa" in error.group(1), error.group(1)
    assert "Europe/Helsinki" in error.group(1) and skipped.replace("T", " ") in error.group(1)
    start = re.search(r'<input id="access_start"[^>]*>', page)
    assert start is not None and 'aria-invalid="true"' in start.group()
    assert session.query(ResearchBatch).filter_by(study="Kellonsiirto").count() == 0


def test_a_time_the_clocks_pass_twice_is_read_as_the_first_when_typed(
    officer_client: FlaskClient, session: Session
) -> None:
    lab = institute(session)
    session.commit()
    day = _last_sunday(utcnow().year + 1, 10)

    response = officer_client.post(
        NEW_BATCH, data=_form(officer_client, lab.id, access_end=f"{day.isoformat()}T03:30"), headers=FINNISH
    )

    assert response.status_code == 302, response.get_data(as_text=True)
    made = session.get(ResearchBatch, response.headers["Location"].rsplit("/", 1)[-1])
    assert made is not None
    assert made.access_end == datetime(day.year, day.month, day.day, 0, 30, tzinfo=UTC)  # 03:30 summer time (+03:00)


def test_a_copied_window_ending_at_the_second_reading_reads_back_as_the_same_moment(
    officer_client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    day = _last_sunday(utcnow().year + 1, 10)
    second_reading = datetime(day.year, day.month, day.day, 1, 30, tzinfo=UTC)  # 03:30 winter time (+02:00)
    original = draft(session, runtime, make_user(session, role=Role.COMPLIANCE), institute(session).id)
    original.access_end = second_reading
    original.study_end = date(day.year, 12, 31)
    session.commit()

    copy = officer_client.get(f"{NEW_BATCH}?copy_of={original.id}").get_data(as_text=True)

    # The form's window fields as a browser sends them back, hidden ones included.
    shown = dict(re.findall(r'<input[^>]*name="(access_\w+)"[^>]*value="([^"]*)"', copy))
    window = {name: value for name, value in shown.items() if name.startswith(("access_start", "access_end"))}
    assert window["access_end"] == f"{day.isoformat()}T03:30"
    response = officer_client.post(NEW_BATCH, data=_form(officer_client, original.institute_id, **window))

    assert response.status_code == 302, response.get_data(as_text=True)
    made = session.get(ResearchBatch, response.headers["Location"].rsplit("/", 1)[-1])
    assert made is not None and made.id != original.id
    assert (made.access_start, made.access_end) == (original.access_start.replace(second=0), second_reading)
