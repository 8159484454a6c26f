"""Retention periods are counted in the organisation's calendar (CALLVAULT_TIMEZONE), not in UTC.

Found in review of the time-zone work: a call made at 00:30 on 1 March in Helsinki began on 28 February in UTC, where
its periods were counted, so six months ended on 28 August, three days before 1 September, and the sweep deleted the
call while the organisation's own schedule still required it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from recordings_service.config import Settings
from recordings_service.models.privacy import PeriodUnit, RetentionRule
from recordings_service.privacy.retention import Period, change_policy, compute_retain_until
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.privacy import ORG_ZONE
from tests.factories.recordings import TEST_ACTOR, ingest_file

HELSINKI = ZoneInfo("Europe/Helsinki")
POLICIES = {
    RetentionRule.VERIFICATION: Period(36, PeriodUnit.MONTHS),
    RetentionRule.TRAINING: Period(6, PeriodUnit.MONTHS),
    RetentionRule.QUALITY_STUDY: Period(12, PeriodUnit.MONTHS),
    RetentionRule.NO_AGREEMENT: Period(30, PeriodUnit.DAYS),
    RetentionRule.MAXIMUM: Period(36, PeriodUnit.MONTHS),
}
LAST_YEAR = datetime.now(UTC).year - 1


def _kept_until(started_at: datetime, purposes: list[str], zone: ZoneInfo) -> datetime:
    return compute_retain_until(POLICIES, zone=zone, started_at=started_at, purposes=purposes, agreement_made=None)


def test_months_end_on_the_same_date_in_the_organisations_calendar() -> None:
    started = datetime(2026, 3, 1, 0, 30, tzinfo=HELSINKI)
    assert _kept_until(started, ["training"], HELSINKI) == datetime(2026, 9, 1, 0, 30, tzinfo=HELSINKI)
    # The zone decides, not the offset the telephony system wrote: the same moment sent in UTC ends the same.
    assert _kept_until(started.astimezone(UTC), ["training"], HELSINKI) == datetime(2026, 9, 1, 0, 30, tzinfo=HELSINKI)
    # Counted in UTC the call began on 28 February: three days early.
    assert _kept_until(started, ["training"], ZoneInfo("UTC")) == datetime(2026, 8, 28, 22, 30, tzinfo=UTC)


def test_days_end_at_the_same_time_of_day_across_summer_time() -> None:
    started = datetime(2026, 3, 20, 12, 0, tzinfo=HELSINKI)  # EET; summer time begins on 29 March
    assert _kept_until(started, [], HELSINKI) == datetime(2026, 4, 19, 12, 0, tzinfo=HELSINKI)
    assert _kept_until(started, [], HELSINKI) == datetime(2026, 4, 19, 9, 0, tzinfo=UTC)


def test_a_result_is_stored_in_utc() -> None:
    assert _kept_until(datetime(2026, 3, 1, 0, 30, tzinfo=HELSINKI), ["training"], HELSINKI).tzinfo is UTC


def test_ingest_counts_a_calls_periods_in_callvault_timezone(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    change_policy(
        session, actor=TEST_ACTOR, rule="training", keep=30, unit="months", basis="Two and a half years.", zone=ORG_ZONE
    )
    started = datetime(LAST_YEAR, 3, 1, 0, 30, tzinfo=HELSINKI)
    helsinki = ingest_file(session, store, envelope, settings, started_at=started.isoformat(), purposes=["training"])
    assert helsinki.recording.retain_until == datetime(LAST_YEAR + 2, 9, 1, 0, 30, tzinfo=HELSINKI)
    stockholm = replace(settings, timezone="Europe/Stockholm")  # an hour behind: 1 March 00:30 there is 01:30 here
    elsewhere = ingest_file(session, store, envelope, stockholm, started_at=started.isoformat(), purposes=["training"])
    # 23:30 on 28 February in Stockholm: its months end on 28 August there.
    assert elsewhere.recording.retain_until == datetime(
        LAST_YEAR + 2, 8, 28, 23, 30, tzinfo=ZoneInfo("Europe/Stockholm")
    )
