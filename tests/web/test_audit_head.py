"""A HEAD of the audit page or of its CSV export sends no event, so the trail records no read and no export.

Found acting as a compliance officer: a HEAD of `/audit/export.csv` (what a link checker or a download manager
sends before, or instead of, a download) answered with headers alone, yet the trail recorded an `audit.exported`
of every event the filter matched, an export that never left; a HEAD of the page was an `audit.viewed` of 50
events nobody saw. A HEAD of a call's audio is likewise not audited (it carries no audio).
"""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.audit import record_event
from recordings_service.models.account import Role
from tests.factories.accounts import SYSTEM, login, make_user
from tests.factories.audit import events


def test_a_head_is_answered_without_recording_a_read_or_an_export(client: FlaskClient, session: Session) -> None:
    record_event(session, actor=SYSTEM, action="probe.head")
    login(client, make_user(session, role=Role.COMPLIANCE))
    probed = client.head("/audit/export.csv?action=probe.head")
    assert probed.status_code == 200 and probed.data == b"" and probed.mimetype == "text/csv"
    assert client.head("/audit/?action=probe.head").status_code == 200
    assert events(session, "audit.exported") == [] and events(session, "audit.viewed") == []

    assert client.get("/audit/export.csv?action=probe.head").status_code == 200
    assert client.get("/audit/?action=probe.head").status_code == 200
    [exported] = events(session, "audit.exported")
    assert exported.details["count"] == 1 and exported.details["action"] == "probe.head"
    assert len(events(session, "audit.viewed")) == 1
