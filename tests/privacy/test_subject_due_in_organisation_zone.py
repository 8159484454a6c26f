"""A request's month is counted in the organisation's time zone, whatever offset the API client sent its receipt
in, as an extension's months are. Found by review: counted in the offset given, a request received on 31 January in
Helsinki and sent in UTC (30 January 22:30) was due on 1 March there, a day after the month the GDPR allows, and one
received before the clocks went forward was due an hour late."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from recordings_service.config import Settings
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.privacy import customer, runtime_on_bucket  # noqa: F401  (fixtures)
from tests.factories.recordings import make_token
from tests.factories.zones import app_in_zone

HELSINKI = ZoneInfo("Europe/Helsinki")


@pytest.mark.parametrize(
    ("received", "due"),
    [
        # 31 January in Helsinki: due by the end of the last day of February, not of 1 March.
        ("2026-01-30T22:30:00Z", datetime(2026, 2, 28, 23, 59, 59, 999999, tzinfo=HELSINKI)),
        # Before the clocks went forward (29 March): due by the end of 15 April there, not at 01:00 on the 16th.
        ("2026-03-15T10:00:00Z", datetime(2026, 4, 15, 23, 59, 59, 999999, tzinfo=HELSINKI)),
    ],
)
def test_the_api_counts_the_month_in_the_organisations_zone(
    settings: Settings, runtime: Runtime, session: Session, received: str, due: datetime
) -> None:
    client = app_in_zone(settings, runtime, HELSINKI.key).test_client()
    officer = {"Authorization": "Bearer " + make_token(session, role=Role.COMPLIANCE, scope="compliance")}
    ref = customer(session).customer_ref
    session.commit()

    made = client.post(
        "/api/v1/subject-requests",
        json={"customer_ref": ref, "kind": "access", "received_at": received},
        headers=officer,
    )

    assert made.status_code == 201, made.get_json()
    assert datetime.fromisoformat(made.get_json()["due_at"]) == due.astimezone(UTC)
