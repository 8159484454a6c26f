"""Bulk assign from the call list in Debian's chromium (Playwright) against a live server: a QA lead sorts the
list, ticks "Select all calls on this page" (call_list.js ticks every call's box), picks a supervisor and
assigns; the calls land on that supervisor's list."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from recordings_service.config import Settings
from recordings_service.models import Assignment
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.browser_support import private_runtime, serving
from tests.factories.accounts import browser_sign_in, make_enrolled_user
from tests.factories.recordings import make_recording
from web import create_app

pytestmark = pytest.mark.browser


@dataclass
class Live:
    url: str
    runtime: Runtime
    call_ids: list[str]
    assignee_id: str
    secret: str


@pytest.fixture(scope="module")
def live(
    base_settings: Settings, store: S3ObjectStore, envelope: Envelope, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    runtime = private_runtime(base_settings, store, envelope, tmp_path_factory.mktemp("call-list-browser"))
    start = datetime(2026, 11, 23, 9, tzinfo=UTC)
    with runtime.sessions() as session:
        _, secret = make_enrolled_user(session, envelope, username="liisa")
        assignee, _ = make_enrolled_user(session, envelope, username="matti")
        calls = [
            make_recording(session, store, envelope, started_at=start + timedelta(minutes=n), duration_s=30.0 + n)
            for n in range(3)
        ]
        session.commit()
        ids, keys, assignee_id = [call.id for call in calls], [call.storage_key for call in calls], assignee.id
    try:
        with serving(create_app(runtime.settings, runtime=runtime), "call-list-browser-server") as url:
            yield Live(url, runtime, ids, assignee_id, secret)
    finally:
        for key in keys:
            store.delete(key)
        runtime.engine.dispose()


def test_a_lead_assigns_every_call_of_the_page_in_bulk(browser: Any, live: Live) -> None:
    tab = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=live.url).new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    browser_sign_in(tab, "liisa", live.secret)
    tab.goto("/calls/")
    tab.click("th >> text=Duration")  # sorted by duration, longest first
    tab.wait_for_load_state()
    assert tab.get_attribute("th[aria-sort]", "aria-sort") == "descending"

    tab.check("#all_on_page")
    assert all(box.is_checked() for box in tab.locator('input[name="recording_id"]').all())
    tab.select_option("#assignee_id", live.assignee_id)
    with tab.expect_navigation():
        tab.click("button:has-text('Assign')")

    assert tab.locator("text=Assigned 3 calls.").is_visible()
    assert "sort=duration" in tab.url  # back on the list as it was
    with live.runtime.sessions() as session:
        assigned = session.scalars(select(Assignment.recording_id).where(Assignment.assignee_id == live.assignee_id))
        assert sorted(assigned) == sorted(live.call_ids)
    assert errors == []
