"""The audit page: a bad date keeps the form and marks its field, actions are picked, objects link to pages."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.audit import record_event
from recordings_service.models.account import Role
from tests.factories.accounts import SYSTEM, login, make_user
from tests.factories.audit import events


def test_a_bad_since_keeps_the_typed_filters_and_marks_the_field(client: FlaskClient, session: Session) -> None:
    login(client, make_user(session, role=Role.COMPLIANCE))
    response = client.get("/audit/?actor=alice&since=yesterday&until=2025-02-01")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<form method="get" action="/audit/" class="filters">' in page  # the page itself, not an error page
    assert 'id="actor" name="actor" value="alice"' in page
    since = re.search(r'<input id="since"[^>]*>', page)
    assert since is not None
    assert 'value="yesterday"' in since[0] and 'aria-invalid="true"' in since[0]
    assert 'aria-describedby="since-error"' in since[0]
    assert re.search(r'id="since-error">use a date \(2025-01-31\)', page)
    until = re.search(r'<input id="until"[^>]*>', page)
    assert until is not None and 'value="2025-02-01"' in until[0] and "aria-invalid" not in until[0]


def test_the_action_filter_offers_the_actions_in_the_trail(client: FlaskClient, session: Session) -> None:
    record_event(session, actor=SYSTEM, action="picker.opened")
    record_event(session, actor=SYSTEM, action="picker.closed")
    login(client, make_user(session, role=Role.COMPLIANCE))
    page = client.get("/audit/?action=picker.closed").get_data(as_text=True)
    picker = re.search(r'<select id="action" name="action">.*?</select>', page, re.S)
    assert picker is not None
    assert "<option>picker.opened</option>" in picker[0]
    assert "<option selected>picker.closed</option>" in picker[0]
    assert "<option>picker.*</option>" in picker[0]  # every action of that kind at once


def test_object_ids_link_to_their_page_where_the_reader_may_open_it(client: FlaskClient, session: Session) -> None:
    record_event(session, actor=SYSTEM, action="link.recording", object_type="recording", object_id="01RECORDING")
    record_event(session, actor=SYSTEM, action="link.batch", object_type="research_batch", object_id="01BATCH")
    record_event(session, actor=SYSTEM, action="link.user", object_type="user", object_id="01SOMEUSER")
    record_event(session, actor=SYSTEM, action="link.hold", object_type="legal_hold", object_id="01SOMEHOLD")
    login(client, make_user(session, role=Role.COMPLIANCE))
    page = client.get("/audit/?action=link.*").get_data(as_text=True)
    assert '<a href="/calls/01RECORDING">01RECORDING</a>' in page
    assert '<a href="/research/batches/01BATCH">01BATCH</a>' in page
    # A compliance officer cannot open the admin's user pages, and a hold has no page: plain text.
    assert "01SOMEUSER" in page and 'href="/admin/users/01SOMEUSER"' not in page
    assert "01SOMEHOLD" in page and "01SOMEHOLD</a>" not in page


def test_reading_the_trail_is_itself_audited_with_what_was_asked(client: FlaskClient, session: Session) -> None:
    """The trail names people and their IP addresses: who read which part of it is on record, as an export is."""
    for _ in range(3):
        record_event(session, actor=SYSTEM, action="reader.step")
    officer = make_user(session, role=Role.COMPLIANCE)
    login(client, officer)
    assert client.get("/audit/?action=reader.step&actor=system").status_code == 200
    viewed = events(session, "audit.viewed")
    assert [(event.actor_id, event.object_type) for event in viewed] == [(officer.id, "audit_events")]
    assert viewed[0].details["action"] == "reader.step" and viewed[0].details["actor"] == "system"
    assert viewed[0].details["shown"] == 3
    # A refused filter shows nothing, so nothing is recorded.
    assert client.get("/audit/?since=yesterday").status_code == 422
    assert len(events(session, "audit.viewed")) == 1


def test_a_moment_with_no_utc_equivalent_is_refused_beside_its_field(client: FlaskClient, session: Session) -> None:
    """Found by reading the code after the API's overflow: 0001-01-01 00:00 in Helsinki falls before year 1 in UTC,
    a 500 on this page."""
    login(client, make_user(session, role=Role.COMPLIANCE))
    for query in ("since=0001-01-01T00:00", "until=0001-01-01T00:00%2B05:00"):
        response = client.get(f"/audit/?{query}")
        assert response.status_code == 422, query
        assert 'aria-invalid="true"' in response.get_data(as_text=True)


def test_a_broken_older_events_link_is_refused_not_read_as_the_first_page(
    client: FlaskClient, session: Session
) -> None:
    """Found by reviewing the audit page: `before=12x` (a link cut short or hand-edited) showed the newest events as
    if they were the older ones asked for, answering 200."""
    record_event(session, actor=SYSTEM, action="pager.step")
    login(client, make_user(session, role=Role.COMPLIANCE))
    for before in ("12x", "-3", "1_0", "²", "99999999999999999999999"):
        response = client.get(f"/audit/?action=pager.step&before={before}")
        page = response.get_data(as_text=True)
        assert response.status_code == 422, before
        assert "This link to a further page of the list is not valid (mistyped or out of date)" in page
        assert '<a href="/audit/?action=pager.step">Newest events</a>' in page  # the way back, filters kept
        assert "pager.step</td>" not in page  # no events shown as if they were the older ones
    assert events(session, "audit.viewed") == []  # nothing was shown, so nothing was read
    # The CSV export has no pages: it is every event the filters match, and ignores a `before` as any other
    # parameter it does not take.
    exported = client.get("/audit/export.csv?action=pager.step&before=12x")
    assert exported.status_code == 200 and "pager.step" in exported.get_data(as_text=True)
