"""axe-core (bundled by axe-playwright-python, nothing fetched) finds no WCAG 2.1 A/AA violation on the main
pages, each opened by the role that works there, the call page in English and in Finnish."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from recordings_service.models.account import Role
from tests.browser.a11y_support import A11yLive, a11y_live, choose_language  # noqa: F401 — a11y_live: fixture
from tests.browser_support import wait_until

pytestmark = pytest.mark.browser

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# role -> the pages that role works on ({call}: the transcribed stereo call; "fi:" opens it in Finnish)
PAGES = {
    Role.QA_SUPERVISOR: [
        "/dashboard",
        "/calls/",
        "/calls/{call}",
        "fi:/calls/{call}",
        "/evaluations/",
        "/queues",
        "/calibration/",
        "/disputes",
    ],
    Role.COMPLIANCE: ["/audit/", "/research/", "/subjects/", "/compliance/"],
    Role.ADMIN: ["/admin/users", "/forms"],
    Role.TRAINER: ["/training/", "/calls/{call}"],
    Role.RESEARCH_PARTNER: ["/partner/"],
    Role.AGENT: ["/feedback/"],
}


@pytest.fixture(scope="module")
def axe() -> Any:
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


@pytest.fixture(scope="module", params=list(PAGES), ids=str)
def signed_in(request: pytest.FixtureRequest, browser: Any, a11y_live: A11yLive) -> Iterator[tuple[str, Any]]:  # noqa: F811
    """One signed-in tab per role, shared by that role's pages."""
    tab = a11y_live.sign_in(browser, request.param)
    yield request.param, tab
    tab.context.close()


def test_no_wcag_21_aa_violations_on_the_main_pages(signed_in: tuple[str, Any], a11y_live: A11yLive, axe: Any) -> None:  # noqa: F811
    role, page = signed_in
    found = {}
    for entry in PAGES[role]:
        finnish = entry.startswith("fi:")
        path = entry.removeprefix("fi:").format(call=a11y_live.stereo_id)
        if finnish:
            choose_language(page, "fi")
        try:
            response = page.goto(path)
            assert response is not None and response.status == 200, (role, path)
            if page.locator(".lane-wave").count():
                wait_until(page, "() => document.querySelectorAll('.spans, .lane-wave').length > 0")
            results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}})
            if results.violations_count:
                found[entry] = results.generate_report()
        finally:
            if finnish:
                choose_language(page, "en")
    assert not found, "\n\n".join(f"{role} {entry}:\n{report}" for entry, report in found.items())
