"""The audit page shows an event's details as JSON writes them (as they are stored and exported), not as Python.

Found by reviewing the audit page: `chargeable=False`, `package=None`, `filters=['queue', 'language']` — Python's
spelling, which a compliance officer comparing the page with the CSV export (JSON) or the API reads as other values.
"""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.audit import record_event
from recordings_service.models.account import Role
from tests.factories.accounts import SYSTEM, login, make_user
from tests.page_text import visible_text


def test_details_read_as_json_with_text_as_typed_and_moments_in_local_time(
    client: FlaskClient, session: Session
) -> None:
    record_event(
        session,
        actor=SYSTEM,
        action="details.shown",
        details={
            "chargeable": False,
            "next_page": True,
            "package": None,
            "filters": ["queue", "language"],
            "queues": ["myynti", "äänitys"],
            "share": 0.5,
            "reason": "on hold",
            "expires_at": "2026-12-04T14:33:00+00:00",
        },
    )
    login(client, make_user(session, role=Role.COMPLIANCE))
    page = client.get("/audit/?action=details.shown").get_data(as_text=True)
    text = visible_text(page.split("<tbody>")[1])
    assert "chargeable=false " in text and "next_page=true " in text and "package=null " in text
    assert 'filters=["queue", "language"] ' in text and 'queues=["myynti", "äänitys"] ' in text
    assert "share=0.5 " in text and "reason=on hold " in text  # text as it is, not quoted
    assert "expires_at= 2026-12-04 16:33:00 " in text  # a moment in Helsinki time (in its <time>), as before
    assert "False" not in text and "None" not in text and "['queue'" not in text
