"""Migration 0036 on a database whose calls were given retention dates counted in UTC: after `callvault db upgrade`
each live call is kept until the date the organisation's calendar gives, as one ingested now is; dates set by
anything else (an erasure that kept a call for a legal duty only, a deleted call) are left as they are."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from recordings_service import schema
from recordings_service.models import Customer, Recording, SubjectRequest
from recordings_service.models.recording import RecordingStatus
from recordings_service.privacy.retention import compute_retain_until, load_policies
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.migrations import database_at, stored_before

BEFORE = "0035_subject_deadlines"
HELSINKI = ZoneInfo("Europe/Helsinki")
STARTED = datetime(2025, 3, 1, 0, 30, tzinfo=HELSINKI)  # 28 February in UTC
FACTS = {"started_at": STARTED, "purposes": ["verification"], "agreement_made": True}


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_dates_counted_in_utc_move_to_the_organisations_calendar(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: S3ObjectStore, envelope: Envelope
) -> None:
    monkeypatch.delenv("CALLVAULT_TIMEZONE", raising=False)  # the organisation's zone: Helsinki by default
    with database_at(BEFORE, kind, tmp_path) as engine:
        with Session(engine) as session:
            policies = load_policies(session)
            in_utc = compute_retain_until(policies, zone=UTC, **FACTS)
            in_helsinki = compute_retain_until(policies, zone=HELSINKI, **FACTS)
            # Verification keeps 36 months: from 28 February 2025 in UTC to 28 February 2028, a day before 1 March.
            assert (in_utc, in_helsinki) == (
                datetime(2028, 2, 28, 22, 30, tzinfo=UTC),
                datetime(2028, 3, 1, 0, 30, tzinfo=HELSINKI),
            )
            erased = Customer(customer_ref="cust-erased-0036")
            session.add(erased)
            session.flush()

            def call(**values: object) -> str:
                return stored_before(session, store, envelope, **FACTS, **values)

            ids = {
                "counted_in_utc": call(retain_until=in_utc),
                "set_otherwise": call(retain_until=datetime(2027, 1, 1, tzinfo=UTC)),
                "deleted": call(retain_until=in_utc, status=RecordingStatus.DELETED),
                "kept_by_erasure": call(retain_until=in_utc, customer_id=erased.id),
            }
            session.flush()
            erasure = SubjectRequest(
                customer_id=erased.id,
                kind="erasure",
                received_at=datetime(2026, 1, 1, tzinfo=UTC),
                due_at=datetime(2026, 2, 1, tzinfo=UTC),
                completed_at=datetime.now(UTC),
                outcome={},
            )
            session.add(erasure)
            session.commit()

        schema.upgrade(engine)

        with Session(engine) as session:
            found = {name: session.get_one(Recording, recording_id).retain_until for name, recording_id in ids.items()}
    assert found == {
        "counted_in_utc": in_helsinki,
        "set_otherwise": datetime(2027, 1, 1, tzinfo=UTC),
        "deleted": in_utc,
        "kept_by_erasure": in_utc,
    }
