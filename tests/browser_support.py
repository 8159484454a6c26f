"""Shared pieces of the browser tests: Debian's chromium driven by Playwright, a private runtime served live,
watching a page for errors, and CSP-safe waiting."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from recordings_service import schema
from recordings_service.config import Settings
from recordings_service.db import make_engine, make_sessionmaker
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
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


def private_runtime(base_settings: Settings, store: ObjectStore, envelope: Envelope, data_dir: Path) -> Runtime:
    """A runtime on its own migrated SQLite file in `data_dir`: a live server's threads only see committed rows, so
    these tests cannot use the savepoint-per-test database. The caller disposes `runtime.engine`."""
    settings = replace(base_settings, data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'callvault.db'}")
    engine = make_engine(settings.database_url)
    schema.upgrade(engine)
    return Runtime(settings=settings, engine=engine, sessions=make_sessionmaker(engine), store=store, envelope=envelope)


@contextmanager
def serving(app: Flask, name: str) -> Iterator[str]:
    """`app` on a threaded werkzeug server on a free port, for as long as the block runs; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def watch_errors(page: Any, errors: list[str], *, failed_loads_expected: bool = False) -> None:
    """Add the page's script errors and console errors (CSP refusals among them) to `errors` as they come. A
    missing favicon is expected, and a waveform the server is busy preparing (503); so is every failed load (an
    answer such as 404 or 422) where `failed_loads_expected`."""

    def console(message: Any) -> None:
        url = message.location.get("url", "")
        failed_load = message.text.startswith("Failed to load resource")
        if message.type != "error" or url.endswith("/favicon.ico") or (failed_loads_expected and failed_load):
            return
        if url.endswith("/peaks.json") and "status of 503" in message.text:
            return  # asked for while another call's waveform is computed: the page asks again when told
        errors.append(f"{message.text} ({url})")

    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", console)


def wait_until(page: Any, predicate: str, *, timeout_s: float = 15.0) -> None:
    """Poll a JS predicate with evaluate(): Playwright's wait_for_function evals strings, which our CSP forbids."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(predicate):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {predicate}")
        time.sleep(0.05)


def score_with_first_answers(page: Any) -> None:
    """From a call page: go to the evaluation panel beside the player, pick the first answer of every question,
    submit."""
    page.click("text=Evaluate this call")
    for group in page.locator("#evaluation-form fieldset.question").all():
        group.locator("input[type=radio]").first.check()
    page.click("#evaluation-form button[type=submit]")
