"""Shared pieces of the browser tests: Debian's chromium driven by Playwright, and CSP-safe waiting."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    # Playwright's key presses are trusted gestures anyway; this keeps play() from racing the policy.
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        reason = f"Debian's chromium is not installed at {CHROMIUM} (apt-get install -y chromium)"
        if IN_CI:
            pytest.fail(f"{reason}; CI=true requires the browser tests to run")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def wait_until(page: Any, predicate: str, *, timeout_s: float = 15.0) -> None:
    """Poll a JS predicate with evaluate(): Playwright's wait_for_function evals strings, which our CSP forbids."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(predicate):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {predicate}")
        time.sleep(0.05)


def score_with_first_answers(page: Any) -> None:
    """From a call page: open the evaluation form, pick the first answer of every question, save."""
    page.click("text=Evaluate this call")
    for group in page.locator("fieldset").all():
        radios = group.locator("input[type=radio]")
        if radios.count():
            radios.first.check()
    page.click("text=Save evaluation")
