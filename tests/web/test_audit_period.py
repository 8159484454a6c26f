"""The audit page refuses a period that ends before it begins, beside the Until field.

Found by exploratory testing: From 2026-12-05 and Until 2026-12-04 listed no events and said "No events match.",
as a quiet trail would, and the CSV export of it was an empty file recorded as an export.
"""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.models import AuditEvent
from recordings_service.models.account import Role
from tests.factories.accounts import login, make_user

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
