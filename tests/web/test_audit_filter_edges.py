"""The audit page's filters at their edges: the clock changes in Helsinki, arguments the form does not have, and an
export whose recorded count is the rows it holds.

Found acting as a compliance officer exporting for an auditor: From 03:30 on the morning the clocks go forward was
read as 04:30, leaving out the events shown at 04:00–04:29, and Until 03:30 on the morning they go back stopped
before the events of the second 03:00–03:30; `?endpoint=x` on the page was a 500; the CSV of the whole trail held
one row more than its `audit.exported` event counted (the event itself, and any event written while it streamed).
"""

from __future__ import annotations

import csv
import io
import re

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.audit import record_event
from recordings_service.models.account import Role
from tests.factories.accounts import SYSTEM, login, make_user
from tests.factories.audit import events


def _read_as(client: FlaskClient, session: Session, query: str) -> dict[str, object]:
    """The filter as the page read it: its `audit.viewed` event records the moments in UTC."""
    assert client.get(f"/audit/?{query}").status_code == 200
    return dict(events(session, "audit.viewed")[-1].details)


def test_times_the_clock_change_skips_or_repeats_leave_no_event_out(client: FlaskClient, session: Session) -> None:
    login(client, make_user(session, role=Role.COMPLIANCE))
    # 30 March 2025: 03:00 EET became 04:00 EEST at 01:00 UTC, so 03:30 was never shown. From it lists 02:30 EET on
    # (rather than from 04:30 EEST, which left 04:00-04:29 out), Until it up to 04:30 EEST.
    assert _read_as(client, session, "since=2025-03-30T03:30")["since"] == "2025-03-30T00:30:00+00:00"
    assert _read_as(client, session, "until=2025-03-30T03:30")["until"] == "2025-03-30T01:30:00+00:00"
    # 26 October 2025: 04:00 EEST became 03:00 EET at 01:00 UTC, so 03:30 was shown twice, at 00:30 and 01:30 UTC.
    assert _read_as(client, session, "since=2025-10-26T03:30")["since"] == "2025-10-26T00:30:00+00:00"
    assert _read_as(client, session, "until=2025-10-26T03:30")["until"] == "2025-10-26T01:30:00+00:00"
    # Any other time has one reading, and a time naming its zone is taken as it says.
    plain = _read_as(client, session, "since=2025-07-01T12:00&until=2025-07-01T12:00%2B00:00")
    assert plain["since"] == "2025-07-01T09:00:00+00:00" and plain["until"] == "2025-07-01T12:00:00+00:00"


def test_arguments_the_form_does_not_have_are_not_carried_into_its_links(client: FlaskClient, session: Session) -> None:
    record_event(session, actor=SYSTEM, action="edge.step")
    login(client, make_user(session, role=Role.COMPLIANCE))
    response = client.get("/audit/?action=edge.step&endpoint=x&_external=1&_scheme=ftp&_anchor=top")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    export = re.search(r'<a href="([^"]*)">Export these events as CSV', page)
    assert export is not None and export[1] == "/audit/export.csv?action=edge.step"


def test_an_export_holds_exactly_the_events_its_record_counts(client: FlaskClient, session: Session) -> None:
    for _ in range(3):
        record_event(session, actor=SYSTEM, action="edge.step")
    login(client, make_user(session, role=Role.COMPLIANCE))
    response = client.get("/audit/export.csv")
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    (exported,) = events(session, "audit.exported")
    assert len(rows) == exported.details["count"]
    assert max(int(row["seq"]) for row in rows) == exported.details["through_seq"] == exported.seq - 1
    assert "audit.exported" not in {row["action"] for row in rows}  # its own event comes after the file's last
