"""An older-events link edited to a number no page handed out is refused, not read as a quiet trail.

Found by editing the audit page's link: `before=0` (or 1) answered 200 with "No events match." as if the trail were
empty, and `before=999999999999` answered 200 with the newest events as if they were the older ones asked for. A
page of older events had no way back to the newest but the browser's Back button, where the other paged lists offer
their first page.
"""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.audit import record_event
from recordings_service.audit_search import last_seq
from recordings_service.models.account import Role
from tests.factories.accounts import SYSTEM, login, make_user
from tests.factories.audit import events
from web.ui.audit import PAGE_SIZE

REFUSED = "This link to a further page of the list is not valid (mistyped or out of date)"


def test_a_page_number_no_link_handed_out_is_refused_with_the_way_back(client: FlaskClient, session: Session) -> None:
    for _ in range(PAGE_SIZE + 2):
        record_event(session, actor=SYSTEM, action="cursor.step")
    login(client, make_user(session, role=Role.COMPLIANCE))
    first = client.get("/audit/?action=cursor.step").get_data(as_text=True)
    older = re.search(r'href="/audit/\?before=(\d+)&amp;action=cursor.step" rel="next"', first)
    assert older is not None
    assert '<a href="/audit/?action=cursor.step">Newest events</a>' not in first  # the first page is the top
    second = client.get(f"/audit/?action=cursor.step&before={older[1]}")  # the link handed out
    assert second.status_code == 200
    # A later page leads back to the newest events, as other lists lead to their first page.
    assert '<a href="/audit/?action=cursor.step">Newest events</a>' in second.get_data(as_text=True)
    viewed = len(events(session, "audit.viewed"))

    beyond = last_seq(session) + 1
    for before in ("0", "00", "1", str(beyond), "999999999999"):
        response = client.get(f"/audit/?action=cursor.step&before={before}")
        page = response.get_data(as_text=True)
        assert response.status_code == 422, before
        assert REFUSED in page, before
        assert '<a href="/audit/?action=cursor.step">Newest events</a>' in page  # the first page, filters kept
        assert "cursor.step</td>" not in page and "No events match." not in page
    assert len(events(session, "audit.viewed")) == viewed  # nothing shown, nothing read
