"""Calibration with three supervisors in Debian's chromium (Playwright) against a live server: the organiser
starts a session from the menu, each supervisor scores the call without seeing the others' answers, and once
the third has submitted everyone sees the agreement and deviation tables."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from recordings_service.config import Settings
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.browser_support import private_runtime, serving
from tests.factories.accounts import browser_sign_in, make_enrolled_user
from tests.factories.evaluations import actor_of, published_form
from tests.factories.recordings import make_recording
from web import create_app

pytestmark = pytest.mark.browser
PEOPLE = ("olga", "anna", "bert", "cecilia")  # the organiser, then the three participants
# Per participant, the answer picked on every question (its index among the question's radios).
PICKS = {"anna": 0, "bert": 0, "cecilia": 1}


@dataclass
class Live:
    url: str
    call_id: str
    secrets: dict[str, str]

    def sign_in(self, browser: Any, username: str) -> Any:
        tab = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=self.url).new_page()
        browser_sign_in(tab, username, self.secrets[username])
        return tab


@pytest.fixture(scope="module")
def live(
    base_settings: Settings, store: S3ObjectStore, envelope: Envelope, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    runtime = private_runtime(base_settings, store, envelope, tmp_path_factory.mktemp("calibration-browser"))
    with runtime.sessions() as session:
        enrolled = {name: make_enrolled_user(session, envelope, username=name) for name in PEOPLE}
        published_form(session, actor_of(enrolled["olga"][0]))
        call = make_recording(session, store, envelope, queue="calibration")
        session.commit()
        call_id, storage_key = call.id, call.storage_key
    try:
        with serving(create_app(runtime.settings, runtime=runtime), "calibration-browser-server") as url:
            yield Live(url, call_id, {n: s for n, (_, s) in enrolled.items()})
    finally:
        store.delete(storage_key)
        runtime.engine.dispose()


def score(tab: Any, pick: int) -> None:
    for question in tab.locator("fieldset.question").all():
        question.locator("input[type=radio]").nth(pick).check()
    with tab.expect_navigation():
        tab.click("text=Submit my scores")


def test_three_supervisors_calibrate_blind_until_all_submit(browser: Any, live: Live) -> None:
    organiser = live.sign_in(browser, "olga")
    organiser.click("header nav >> text=Calibration")
    organiser.click("text=New calibration session")
    organiser.fill("#title", "Week 49")
    organiser.fill("#recording_id", live.call_id)
    for name in PICKS:
        organiser.check(f"label:has-text('({name})') >> input")
    with organiser.expect_navigation():
        organiser.click("text=Create session")
    session_path = organiser.url.removeprefix(live.url)
    assert session_path.startswith("/calibration/"), organiser.url

    tabs = {name: live.sign_in(browser, name) for name in PICKS}
    for done, (name, pick) in enumerate(PICKS.items(), start=1):
        tab = tabs[name]
        tab.click("header nav >> text=Calibration")
        tab.click("text=Week 49")
        # The click returns once the navigation has started; the session page must have loaded before it is read.
        tab.wait_for_url(f"**{session_path}")
        assert tab.locator(f'a[href="/calls/{live.call_id}"]').count() == 1
        score(tab, pick)
        assert tab.locator("#my-score").is_visible()
        if done < len(PICKS):
            for other in tabs.values():
                other.goto(session_path)
                assert other.locator("#agreement").count() == 0 and other.locator("#deviation").count() == 0
            assert f"{name}: submitted" in tabs["cecilia"].locator("ul.participants").inner_text()

    for tab in (*tabs.values(), organiser):
        tab.goto(session_path)
        assert tab.locator("#agreement").is_visible()
    rows = organiser.locator("#deviation tbody tr")
    assert rows.count() == 3
    # anna and bert answered alike (the best answers), cecilia differed on every question.
    agreement = organiser.locator("#agreement tbody tr").first.locator("td").nth(1).inner_text()
    assert agreement == "67 %"
