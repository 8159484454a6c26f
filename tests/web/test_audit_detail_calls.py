"""The calls an event's details name link to each call's own trail, as the Object column links the event's object.

Found acting as a compliance officer: a legal hold's `recording_id`, the calls a search showed words of
(`snippet_recordings`) and the calls of a downloaded training export (`recording_ids`) were plain text, so a call's
trail was reached only by copying its id into the Object id field by hand.
"""

from __future__ import annotations

import html
import re

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.audit import record_event
from recordings_service.models.account import Role
from tests.factories.accounts import SYSTEM, login, make_user


def test_each_call_a_detail_names_links_to_its_trail(client: FlaskClient, session: Session) -> None:
    record_event(
        session,
        actor=SYSTEM,
        action="legal_hold.placed",
        object_type="legal_hold",
        object_id="01HOLD",
        details={"recording_id": "01CALLHELD", "customer_id": None, "recordings": 1},
    )
    record_event(
        session,
        actor=SYSTEM,
        action="recording.searched",
        details={"results": 2, "snippet_recordings": "01CALLSEEN,01CALLTOO"},
    )
    record_event(
        session,
        actor=SYSTEM,
        action="training.export_downloaded",
        object_type="training_set",
        object_id="01SET",
        details={"clips": 2, "recording_ids": ["01CALLCUT", "01CALLCLIP"]},
    )
    login(client, make_user(session, role=Role.COMPLIANCE))
    page = client.get("/audit/").get_data(as_text=True)
    rows = page.split("<tbody>")[1]
    for call in ("01CALLHELD", "01CALLSEEN", "01CALLTOO", "01CALLCUT", "01CALLCLIP"):
        assert f'<a href="/audit/?object_id={call}">{call}</a>' in rows, call
    # Read as before: the same text, with the links in it; counts and an empty customer stay plain.
    text = html.unescape(re.sub(r"<[^>]*>", "", rows))  # as a browser shows it: a link adds no space
    assert "recording_id=01CALLHELD customer_id=null recordings=1 " in text
    assert "snippet_recordings=01CALLSEEN,01CALLTOO " in text
    assert 'recording_ids=["01CALLCUT", "01CALLCLIP"] ' in text
    assert 'object_id=1"' not in rows and 'object_id=null"' not in rows

    # The link leads to the call's trail: the event naming it is there.
    trail = client.get("/audit/?object_id=01CALLSEEN")
    assert trail.status_code == 200
    assert "recording.searched</td>" in trail.get_data(as_text=True).split("<tbody>")[1]


def test_other_details_stay_plain_text(client: FlaskClient, session: Session) -> None:
    record_event(session, actor=SYSTEM, action="details.plain", details={"user_id": "01SOMEUSER", "reason": "x,y"})
    login(client, make_user(session, role=Role.COMPLIANCE))
    rows = client.get("/audit/?action=details.plain").get_data(as_text=True).split("<tbody>")[1]
    assert "user_id=01SOMEUSER" in rows and "01SOMEUSER</a>" not in rows and "/audit/?" not in rows
