"""Found in review: a supervisor paging through many calls who tagged, assigned or failed to export calls on a later
page was sent back to the first page (the bulk form's way back carried the filters and sort, not the page), and
had to page forward again to find where they were."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import csrf_token, login, make_user
from tests.factories.recordings import make_recording
from tests.factories.search import random_day


def bulk_back(page: str) -> str:
    form = page.split('<form method="post" id="bulk"', 1)[1].split("</form>", 1)[0]
    match = re.search(r'name="back" value="([^"]*)"', form)
    assert match is not None
    return unescape(match.group(1))


def test_a_bulk_action_returns_to_the_page_it_was_made_on(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    day = random_day()
    for minutes in range(3):
        make_recording(session, store, envelope, audio=b"RIFF", started_at=day + timedelta(minutes=minutes))
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    window = {"date_from": day.date().isoformat(), "date_to": day.date().isoformat()}

    on_page = {**window, "sort": "duration", "dir": "asc", "offset": "2"}
    page = client.get("/calls/", query_string=on_page).get_data(as_text=True)
    back = bulk_back(page)
    assert "offset=2" in back and "sort=duration" in back

    refused = client.post("/calls/tag", data={"csrf_token": csrf_token(client, "/calls/"), "back": back, "tag": "x"})
    assert refused.status_code == 302
    assert (
        "offset=2" in refused.headers["Location"] and f"date_from={window['date_from']}" in refused.headers["Location"]
    )

    newest_first = client.get("/calls/", query_string=window).get_data(as_text=True)
    assert "cursor=" not in bulk_back(newest_first)  # the first page has no place to keep
