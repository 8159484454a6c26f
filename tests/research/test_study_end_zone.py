"""A study's end date is a day of the zone its batch's call dates are days of (the criteria's: the organisation's on
the selection form). Counted as a UTC day, it ended two or three hours after the Finnish day: the form accepted a
download window running past the study's end, excluded calls kept past it as "deleted before the study ends", and
a missing confirmation became overdue at 02:00 or 03:00 in Helsinki."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.errors import Invalid
from recordings_service.models import Institute, ResearchBatch
from recordings_service.research import batches, lifecycle
from recordings_service.research.selection import BatchCriteria
from recordings_service.runtime import Runtime
from tests.factories.research import research_call

HELSINKI = ZoneInfo("Europe/Helsinki")
YEAR = datetime.now(UTC).year + 1
STUDY_END = date(YEAR, 6, 30)  # summer: Helsinki is UTC+3
CALL_DAY = datetime(YEAR - 1, 11, 10, 12, tzinfo=UTC)


def _helsinki(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=HELSINKI).astimezone(UTC)  # as the form hands it over: in UTC


def _request(lab: Institute, *, access_end: datetime) -> batches.BatchRequest:
    criteria = {"from": CALL_DAY.date(), "to": CALL_DAY.date(), "sample_size": 10, "seed": 7}
    return batches.BatchRequest(
        study="Billing calls study",
        purpose="How agents explain estimated bills",
        institute_id=lab.id,
        criteria=BatchCriteria.model_validate({**criteria, "timezone": "Europe/Helsinki"}),
        study_end=STUDY_END,
        access_start=_helsinki(YEAR, 6, 1, 10, 0),
        access_end=access_end,
    )


def _create(session: Session, runtime: Runtime, creator: Actor, lab: Institute, **request: datetime) -> ResearchBatch:
    return batches.create_batch(session, runtime.envelope, actor=creator, request=_request(lab, **request)).made


def test_a_download_window_past_the_studys_last_helsinki_day_is_refused(
    session: Session, runtime: Runtime, creator: Actor, lab: Institute
) -> None:
    with pytest.raises(Invalid) as refused:  # 1 July, 01:30 in Helsinki: 30 June, 22:30 in UTC
        _create(session, runtime, creator, lab, access_end=_helsinki(YEAR, 7, 1, 1, 30))
    assert refused.value.field == "study_end"
    # A window that closes as the study's last day ends is the study's.
    assert _create(session, runtime, creator, lab, access_end=_helsinki(YEAR, 7, 1, 0, 0)).state == "draft"


def test_a_call_kept_past_the_studys_last_helsinki_day_is_selected(
    session: Session, runtime: Runtime, creator: Actor, lab: Institute
) -> None:
    research_call(
        session, runtime.store, runtime.envelope, started_at=CALL_DAY, retain_until=_helsinki(YEAR, 7, 1, 1, 0)
    )
    research_call(
        session, runtime.store, runtime.envelope, started_at=CALL_DAY, retain_until=_helsinki(YEAR, 6, 30, 23, 0)
    )

    batch = _create(session, runtime, creator, lab, access_end=_helsinki(YEAR, 6, 15, 10, 0))

    assert (batch.selected, batch.excluded) == (1, {"retained_until_before_study_end": 1})


def test_a_missing_confirmation_is_overdue_from_the_start_of_the_helsinki_day_after_the_grace(
    session: Session, runtime: Runtime, creator: Actor, lab: Institute
) -> None:
    batch = _create(session, runtime, creator, lab, access_end=_helsinki(YEAR, 6, 15, 10, 0))

    assert lifecycle.overdue_since(batch, grace_days=14) == _helsinki(YEAR, 7, 15, 0, 0)
