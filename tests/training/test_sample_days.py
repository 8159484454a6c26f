"""Found by review: the sample form took its call dates as UTC days ("Calls from (date, UTC)") while every page shows
times in the organisation's zone, so a trainer picking 2 December missed a call at 00:30 Helsinki time (22:30 UTC on
1 December). The page's dates are now days of the organisation's calendar (CALLVAULT_TIMEZONE, Europe/Helsinki in
the tests); the API's criteria name their zone in `timezone`, UTC when they do not, as they always meant."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models import Recording
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.recordings import make_token
from tests.factories.training import bearer, sampled_calls, training_call

SAMPLES = "/api/v1/training/samples"
# 00:30 on 2 December in Helsinki (UTC+2 in winter): still 1 December in UTC.
JUST_AFTER_MIDNIGHT_IN_HELSINKI = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)


def _night_call(session: Session, runtime: Runtime) -> Recording:
    call = training_call(session, runtime.store, runtime.envelope, started_at=JUST_AFTER_MIDNIGHT_IN_HELSINKI)
    session.commit()
    return call


def _day(day: str) -> dict[str, Any]:
    return {"from": day, "to": day, "size": 10, "seed": 3}


def test_the_page_samples_a_call_by_the_day_it_was_made_in_the_organisations_zone(
    trainer_client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    call = _night_call(session, runtime)

    that_day = trainer_client.get("/training/", query_string=_day("2026-12-02"))
    day_before = trainer_client.get("/training/", query_string=_day("2026-12-01"))

    page = that_day.get_data(as_text=True)
    assert that_day.status_code == 200 and sampled_calls(page) == [call.id]
    assert day_before.status_code == 200 and sampled_calls(day_before.get_data(as_text=True)) == []
    assert "Calls from (date)</label>" in page and "UTC)" not in page
    assert 'name="from" type="date" value="2026-12-02"' in page  # the form shows what was asked


def test_the_api_reads_days_as_utc_unless_its_criteria_name_a_zone(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    call = _night_call(session, runtime)
    trainer = bearer(make_token(session, role=Role.TRAINER, scope="training"))
    session.commit()

    def drawn(criteria: dict[str, Any]) -> list[str]:
        answer = client.post(SAMPLES, json=criteria, headers=trainer)
        assert answer.status_code == 200, answer.json
        return [item["recording_id"] for item in answer.json["calls"]]

    assert drawn(_day("2026-12-01")) == [call.id]  # UTC days, as before
    assert drawn(_day("2026-12-02")) == []
    assert drawn({**_day("2026-12-01"), "timezone": "UTC"}) == [call.id]
    assert drawn({**_day("2026-12-02"), "timezone": "Europe/Helsinki"}) == [call.id]
    assert drawn({**_day("2026-12-01"), "timezone": "Europe/Helsinki"}) == []


def test_an_unknown_zone_is_refused_naming_the_field(client: FlaskClient, session: Session) -> None:
    trainer = bearer(make_token(session, role=Role.TRAINER, scope="training"))
    session.commit()

    for zone in ("Europe/Atlantis", "europe/helsinki", "../../etc/passwd", ""):
        answer = client.post(SAMPLES, json={**_day("2026-12-02"), "timezone": zone}, headers=trainer)

        assert answer.status_code == 422, zone
        assert (answer.json["error"], answer.json["field"]) == ("unknown_timezone", "timezone")
        assert "time zone" in answer.json["message"]
