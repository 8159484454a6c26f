"""Found by review: the selection form took its call dates as UTC days ("Calls from (date, UTC)") and the download
window as UTC ("Download allowed from (UTC)") while every page shows times in the organisation's zone, so a batch
of 2 December missed a call at 00:30 Helsinki time (22:30 UTC on 1 December). The form's dates are now days of the
organisation's calendar (CALLVAULT_TIMEZONE, Europe/Helsinki in the tests) and its window the organisation's time;
the batch keeps the zone with its criteria and its page says it. The API's criteria name their zone in
`criteria.timezone`, UTC when they do not, as they always meant."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from recordings_service.db import utcnow
from recordings_service.models import Institute, Recording, ResearchBatch
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.accounts import post_form
from tests.factories.recordings import make_token
from tests.factories.research import batch_body, institute, research_call

BATCHES = "/api/v1/research/batches"
NEW_BATCH = "/research/batches/new"
# 00:30 on 2 December in Helsinki (UTC+2 in winter): still 1 December in UTC.
JUST_AFTER_MIDNIGHT_IN_HELSINKI = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)


def _night_call(session: Session, runtime: Runtime) -> Recording:
    return research_call(session, runtime.store, runtime.envelope, started_at=JUST_AFTER_MIDNIGHT_IN_HELSINKI)


def _form(lab: Institute, day: str, **fields: str) -> dict[str, str]:
    """The selection form for the calls of one `day`, with a window in the coming winter (Helsinki: UTC+2)."""
    winter = utcnow().year + 1
    return {
        "study": f"Calls of {day}",
        "purpose": "How agents explain estimated bills",
        "institute_id": lab.id,
        "from": day,
        "to": day,
        "sample_size": "10",
        "study_end": f"{winter}-06-30",
        "access_start": f"{winter}-01-15T10:00",
        "access_end": f"{winter}-02-15T10:00",
        "audio": "redacted",
        **fields,
    }


def _batch_of(session: Session, made: TestResponse) -> ResearchBatch:
    assert made.status_code == 302, made.get_data(as_text=True)
    session.expire_all()
    return session.scalars(select(ResearchBatch).where(ResearchBatch.id == made.location.rsplit("/", 1)[-1])).one()


def test_the_form_selects_a_call_by_the_day_it_was_made_in_the_organisations_zone(
    officer_client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    _night_call(session, runtime)
    lab = institute(session)
    session.commit()

    that_day = _batch_of(session, post_form(officer_client, NEW_BATCH, _form(lab, "2026-12-02"), token_from=NEW_BATCH))
    day_before = _batch_of(
        session, post_form(officer_client, NEW_BATCH, _form(lab, "2026-12-01"), token_from=NEW_BATCH)
    )

    assert (that_day.selected, day_before.selected) == (1, 0)
    assert that_day.criteria["timezone"] == "Europe/Helsinki"  # kept, so the batch says what it selected
    page = officer_client.get(f"/research/batches/{that_day.id}").get_data(as_text=True)
    assert "(days in Europe/Helsinki)" in page


def test_the_window_typed_on_the_form_is_the_organisations_time(officer_client: FlaskClient, session: Session) -> None:
    lab = institute(session)
    session.commit()
    form = _form(lab, "2026-12-02")
    blank = officer_client.get(NEW_BATCH).get_data(as_text=True)
    assert "Download allowed from</label>" in blank and "Calls from (date)</label>" in blank and "UTC)" not in blank

    refused = post_form(officer_client, NEW_BATCH, {**form, "languages": "xx"}, token_from=NEW_BATCH)
    made = _batch_of(session, post_form(officer_client, NEW_BATCH, form, token_from=NEW_BATCH))

    assert refused.status_code == 422  # comes back with the window as it was typed
    assert f'name="access_start" type="datetime-local" value="{form["access_start"]}"' in refused.get_data(as_text=True)
    winter = utcnow().year + 1
    assert (made.access_start, made.access_end) == (
        datetime(winter, 1, 15, 8, 0, tzinfo=UTC),
        datetime(winter, 2, 15, 8, 0, tzinfo=UTC),
    )
    page = officer_client.get(f"/research/batches/{made.id}").get_data(as_text=True)
    window = re.search(r"<dt>Access window</dt><dd>(.*?)</dd>", page)
    assert window is not None and "10:00" in window.group(1) and f"{winter}-01-15 08:00 UTC" in window.group(1)


def test_the_api_reads_days_as_utc_unless_its_criteria_name_a_zone(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    _night_call(session, runtime)
    headers = {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="research")}
    lab = institute(session)
    session.commit()

    def selected(day: str, **zone: str) -> tuple[int, str | None]:
        body = batch_body(lab.id)
        body["criteria"] = {**body["criteria"], "from": day, "to": day, **zone}
        answer = client.post(BATCHES, json=body, headers=headers)
        assert answer.status_code == 201, answer.json
        return answer.json["selected"], answer.json["criteria"]["timezone"]

    assert selected("2026-12-01") == (1, "UTC")  # UTC days, as before
    assert selected("2026-12-02") == (0, "UTC")
    assert selected("2026-12-02", timezone="Europe/Helsinki") == (1, "Europe/Helsinki")
    assert selected("2026-12-01", timezone="Europe/Helsinki") == (0, "Europe/Helsinki")


def test_an_unknown_zone_is_refused_naming_the_field(client: FlaskClient, session: Session) -> None:
    headers = {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="research")}
    body = batch_body(institute(session).id)
    session.commit()

    for zone in ("Europe/Atlantis", "europe/helsinki", "../../etc/passwd", ""):
        body["criteria"] = {**body["criteria"], "timezone": zone}
        answer = client.post(BATCHES, json=body, headers=headers)

        assert answer.status_code == 422, zone
        assert (answer.json["error"], answer.json["field"]) == ("unknown_timezone", "criteria.timezone")
        assert "time zone" in answer.json["message"]
    assert session.scalars(select(ResearchBatch)).first() is None
