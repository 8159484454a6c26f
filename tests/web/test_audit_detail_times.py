"""The audit page shows the moments inside an event's details in the organisation's time, as its When column.

Found by exploratory testing: filtering from 16:22 (Helsinki) listed the page's own `audit.viewed` event with
`since=2026-12-04T14:22:00+00:00`, and a playback ticket's `expires_at` read two hours early beside a When in
local time.
"""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.audit import record_event
from recordings_service.models.account import Role
from tests.factories.accounts import SYSTEM, login, make_user


def test_moments_in_details_read_in_local_time_with_utc_on_hover(client: FlaskClient, session: Session) -> None:
    record_event(
        session,
        actor=SYSTEM,
        action="ticket.issued",
        details={"expires_at": "2026-12-04T14:33:00.357536+00:00", "note": "T-100", "day": "2026-12-04", "count": 3},
    )
    login(client, make_user(session, role=Role.COMPLIANCE))
    page = client.get("/audit/?action=ticket.issued").get_data(as_text=True)
    assert (
        'expires_at=<time datetime="2026-12-04T14:33:00Z" title="2026-12-04 14:33 UTC">2026-12-04 16:33:00</time>'
        in (page)
    )
    assert "14:33:00.357536" not in page
    assert "note=T-100 " in page and "day=2026-12-04 " in page and "count=3 " in page  # not moments: as they are
