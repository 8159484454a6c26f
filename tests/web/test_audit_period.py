"""The audit page refuses a period that ends before it begins (or where it begins), beside the Until field.

Found by exploratory testing: From 2026-12-05 and Until 2026-12-04 listed no events and said "No events match.",
as a quiet trail would, and the CSV export of it was an empty file recorded as an export.
"""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.models import AuditEvent
from recordings_service.models.account import Role
from tests.factories.accounts import login, make_user
from tests.factories.audit import events

REFUSED = "give a time later than From: no event falls between them"


def trail_reads(session: Session) -> int:
    return session.scalar(select(func.count()).where(AuditEvent.action.in_(["audit.exported", "audit.viewed"]))) or 0


def test_an_until_before_since_is_refused_beside_until(client: FlaskClient, session: Session) -> None:
    login(client, make_user(session, role=Role.COMPLIANCE))
    response = client.get("/audit/?since=2026-12-05&until=2026-12-04T23:59")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    until = re.search(r'<input id="until"[^>]*>', page)
    assert until is not None and 'value="2026-12-04T23:59"' in until[0] and 'aria-invalid="true"' in until[0]
    assert f'id="until-error">{REFUSED}<' in page
    assert "No events match." not in page and "/audit/export.csv" not in page  # no export of a refused filter
    assert client.get("/audit/?since=2026-12-05T10:00&until=2026-12-05T10:00").status_code == 422
    assert client.get("/audit/export.csv?since=2026-12-05&until=2026-12-04").status_code == 422
    assert trail_reads(session) == 0
    assert client.get("/audit/?since=2026-12-04&until=2026-12-05").status_code == 200


@pytest.mark.parametrize(
    ("since", "until"),
    [
        ("2025-10-26T03:30", "2025-10-26T03:30"),  # the hour Helsinki's clock repeats: read as both its passes
        ("2025-10-26T03:30", "2025-10-26T03:10"),
        ("2025-03-30T03:30", "2025-03-30T03:30"),  # the hour it skips
        ("2025-10-26", "2025-10-26T00:00"),
    ],
)
def test_an_until_not_later_than_since_is_refused_at_the_clock_changes_too(
    client: FlaskClient, session: Session, since: str, until: str
) -> None:
    """Found reviewing the period's reading: equal From and Until at 03:30 on the morning the clocks go back read as
    the first and second 03:30, an hour's events listed (and exported) where any other equal pair is refused."""
    login(client, make_user(session, role=Role.COMPLIANCE))
    query = {"since": since, "until": until}
    response = client.get("/audit/", query_string=query)
    assert response.status_code == 422
    assert f'id="until-error">{REFUSED}<' in response.get_data(as_text=True)
    assert client.get("/audit/export.csv", query_string=query).status_code == 422
    assert trail_reads(session) == 0


def test_a_period_inside_the_repeated_hour_or_naming_its_passes_is_read(client: FlaskClient, session: Session) -> None:
    login(client, make_user(session, role=Role.COMPLIANCE))
    read = client.get("/audit/", query_string={"since": "2025-10-26T03:10", "until": "2025-10-26T03:30"})
    assert read.status_code == 200
    # Both passes named by their offsets: the first 03:30 (summer time) to the second (winter time), an hour.
    passes = {"since": "2025-10-26T03:30+03:00", "until": "2025-10-26T03:30+02:00"}
    assert client.get("/audit/", query_string=passes).status_code == 200
    viewed = events(session, "audit.viewed")
    assert [(event.details["since"], event.details["until"]) for event in viewed] == [
        ("2025-10-26T00:10:00+00:00", "2025-10-26T01:30:00+00:00"),
        ("2025-10-26T00:30:00+00:00", "2025-10-26T01:30:00+00:00"),
    ]
