"""Migration 0035 on a database upgraded from a release that stored a subject request's deadline at the minute of
its receipt a month later: after `callvault db upgrade` the request is due, and may still be extended, until the end
of that day in Helsinki, as one registered now is."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from recordings_service import schema
from recordings_service.models import Customer, SubjectRequest
from recordings_service.privacy.subjects import due_date
from tests.factories.migrations import database_at

BEFORE = "0034_job_runs"
HELSINKI = ZoneInfo("Europe/Helsinki")


def _helsinki(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=HELSINKI).astimezone(UTC)


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_deadlines_stored_at_a_minute_end_with_their_day(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CALLVAULT_TIMEZONE", raising=False)  # the organisation's zone: Helsinki by default
    received = _helsinki(2026, 3, 1, 10, 15)
    old_extension = _helsinki(2026, 5, 1, 10, 15)
    already = _helsinki(2026, 4, 30, 23, 59, 59, 999999)
    with database_at(BEFORE, kind, tmp_path) as engine:
        with Session(engine) as session:
            customer = Customer(customer_ref="cust-0035")
            session.add(customer)
            session.flush()
            requests = {
                "due": SubjectRequest(due_at=_helsinki(2026, 4, 1, 10, 15)),
                "extended": SubjectRequest(due_at=_helsinki(2026, 4, 1, 10, 15), extended_until=old_extension),
                "at_end": SubjectRequest(due_at=already),
            }
            for request in requests.values():
                request.customer_id, request.kind, request.received_at = customer.id, "access", received
                request.outcome = {}
            session.add_all(requests.values())
            session.commit()
            ids = {name: request.id for name, request in requests.items()}

        schema.upgrade(engine)

        with Session(engine) as session:
            found = {name: session.get_one(SubjectRequest, request_id) for name, request_id in ids.items()}
            # Due all through 1 April in Helsinki (DST: 20:59:59.999999 UTC), as `due_date` makes it now.
            assert found["due"].due_at == _helsinki(2026, 4, 1, 23, 59, 59, 999999)
            assert found["due"].due_at == due_date(received.astimezone(HELSINKI))
            assert found["extended"].extended_until == _helsinki(2026, 5, 1, 23, 59, 59, 999999)
            assert found["at_end"].due_at == already
