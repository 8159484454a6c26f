"""In Debian's chromium (Playwright): the API docs page runs Swagger UI under the CSP, below the app's header."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from werkzeug.serving import make_server

from recordings_service import schema
from recordings_service.config import Settings
from recordings_service.db import make_engine, make_sessionmaker
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.browser_support import wait_until
from web import create_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_url(
    base_settings: Settings, store: S3ObjectStore, envelope: Envelope, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("api-docs-browser")
    settings = replace(base_settings, data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'callvault.db'}")
    engine = make_engine(settings.database_url)
    schema.upgrade(engine)
    runtime = Runtime(
        settings=settings, engine=engine, sessions=make_sessionmaker(engine), store=store, envelope=envelope
    )
    server = make_server("127.0.0.1", 0, create_app(settings, runtime=runtime), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="api-docs-browser-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        engine.dispose()


def test_swagger_ui_renders_the_operations_below_the_apps_header(browser: Any, live_url: str) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=live_url)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: _console_error(errors, message))
    page.goto("/api/v1/docs/swagger/")
    wait_until(page, "document.querySelectorAll('#swagger-ui .opblock').length > 0")
    assert page.locator("header.top a.brand").inner_text() == "Callvault"
    assert page.locator("#swagger-ui").get_by_text("One recording's metadata", exact=False).count() >= 1
    context.close()
    assert errors == []


def _console_error(errors: list[str], message: Any) -> None:
    # The favicon's 404 is expected (the assets are checked in tests/web/test_api_docs.py); a CSP refusal of an
    # inline script or a CDN, or a script error, is not.
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        errors.append(message.text)
