"""The clip form's seconds in Finnish, in Debian's chromium (Playwright) against a live server.

The start and end fields take a decimal comma or point (the server reads both), but the script's span preview
read a Finnish '12,5' as 12 (parseFloat stops at the comma), and its Start / End buttons wrote '4.25' into a
Finnish form where the page writes '4,25'. The script now reads both and writes as the page's reader does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from recordings_service import accounts
from recordings_service.config import Settings
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.browser_support import private_runtime, serving, watch_errors
from tests.factories.accounts import PASSWORD, SYSTEM, browser_sign_in, enrol_seed
from tests.factories.training import stereo_call
from web import create_app

pytestmark = pytest.mark.browser

TRAINER = "tuula"


@pytest.fixture(scope="module")
def call_page(
    base_settings: Settings, store: S3ObjectStore, envelope: Envelope, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str, str]]:
    """A live server with one trainer (her TOTP seed) and the stereo fixture call: (base URL, seed, call path)."""
    runtime = private_runtime(base_settings, store, envelope, tmp_path_factory.mktemp("training-comma"))
    with runtime.sessions() as session:
        trainer = accounts.create_user(session, actor=SYSTEM, username=TRAINER, role=Role.TRAINER, password=PASSWORD)
        secret = enrol_seed(trainer, envelope)
        call = stereo_call(session, store, envelope)
        session.commit()
        keys = [call.storage_key]
        path = f"/training/calls/{call.id}"
    try:
        with serving(create_app(runtime.settings, runtime=runtime), "training-comma-server") as url:
            yield url, secret, path
    finally:
        for key in keys:
            store.delete(key)
        for version in store.list_versions(f"derived/{path.rsplit('/', 1)[1]}/"):
            store.delete(version.key)
        runtime.engine.dispose()


@pytest.fixture
def finnish(browser: Any, call_page: tuple[str, str, str]) -> Iterator[Any]:
    """The trainer signed in with a Finnish browser, on the call's training page; no script or CSP errors."""
    url, secret, path = call_page
    context = browser.new_context(base_url=url, locale="fi-FI", extra_http_headers={"Accept-Language": "fi"})
    tab = context.new_page()
    errors: list[str] = []
    watch_errors(tab, errors)
    browser_sign_in(tab, TRAINER, secret)
    tab.goto(path)
    tab.wait_for_selector(".clip-form")
    yield tab
    context.close()
    assert errors == []


def in_clip(page: Any) -> list[str]:
    return [segment.get_attribute("id") for segment in page.locator(".segment.in-clip").all()]


def test_a_span_typed_with_a_decimal_comma_is_previewed_as_typed(finnish: Any) -> None:
    assert finnish.locator("html").get_attribute("lang") == "fi"
    # Segments: 0.5–3.5, 3.9–8.9, 9.3–14.4, 14.8–17.3, 17.7–23.0. Read as 3 and 12, the first one was in.
    finnish.fill("#start_s", "3,7")
    finnish.fill("#end_s", "12,5")
    assert in_clip(finnish) == ["seg-1", "seg-2"]
    # Read as 12 to 12, the span was empty and nothing was marked.
    finnish.fill("#start_s", "12")
    assert in_clip(finnish) == ["seg-2"]
    # A decimal point is read too.
    finnish.fill("#start_s", "3.7")
    assert in_clip(finnish) == ["seg-1", "seg-2"]


def test_the_start_and_end_buttons_write_seconds_with_a_decimal_comma(finnish: Any) -> None:
    finnish.evaluate("document.getElementById('training-audio').currentTime = 4.25")
    finnish.click("[data-mark=start]")
    assert finnish.input_value("#start_s") == "4,25"
    finnish.evaluate("document.getElementById('training-audio').currentTime = 12.5")
    finnish.click("[data-mark=end]")
    assert finnish.input_value("#end_s") == "12,5"
    assert in_clip(finnish) == ["seg-1", "seg-2"]
    # The transcript's Start and End beside each segment write the same way.
    finnish.locator("[data-start-from]").nth(0).click()
    finnish.locator("[data-end-at]").nth(1).click()
    assert (finnish.input_value("#start_s"), finnish.input_value("#end_s")) == ("0,5", "8,9")
    assert in_clip(finnish) == ["seg-0", "seg-1"]
