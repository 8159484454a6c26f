"""In Debian's chromium (Playwright): the API docs page runs Swagger UI under the CSP, below the app's header."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from recordings_service.config import Settings
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.browser_support import private_runtime, serving, wait_until, watch_errors
from web import create_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_url(
    base_settings: Settings, store: S3ObjectStore, envelope: Envelope, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    runtime = private_runtime(base_settings, store, envelope, tmp_path_factory.mktemp("api-docs-browser"))
    try:
        with serving(create_app(runtime.settings, runtime=runtime), "api-docs-browser-server") as url:
            yield url
    finally:
        runtime.engine.dispose()


def test_swagger_ui_renders_the_operations_below_the_apps_header(browser: Any, live_url: str) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=live_url)
    page = context.new_page()
    errors: list[str] = []
    watch_errors(page, errors)
    page.goto("/api/v1/docs/swagger/")
    wait_until(page, "document.querySelectorAll('#swagger-ui .opblock').length > 0")
    assert page.locator("header.top a.brand").inner_text() == "Callvault"
    assert page.locator("#swagger-ui").get_by_text("One recording's metadata", exact=False).count() >= 1
    context.close()
    assert errors == []
