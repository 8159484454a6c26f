"""The page header fits a 1280-pixel-wide window in each language, its sign-out button in view.

Found by exploratory testing in Finnish: the header's links never wrapped, so with the longer Finnish words the page
was 1445 (QA supervisor) to 1487 (compliance) pixels wide, "Kirjaudu ulos" and the language picker cut off and the
whole page scrolling sideways."""

from __future__ import annotations

from typing import Any

import pytest

from recordings_service.models.account import Role
from tests.browser.a11y_support import A11yLive, a11y_live, choose_language  # noqa: F401 — a11y_live: fixture

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("role", [Role.QA_SUPERVISOR, Role.COMPLIANCE, Role.ADMIN])
def test_the_header_fits_1280_pixels_in_finnish(browser: Any, a11y_live: A11yLive, role: str) -> None:  # noqa: F811
    tab = a11y_live.sign_in(browser, role)
    try:
        choose_language(tab, "fi")
        assert tab.evaluate("document.documentElement.lang") == "fi"
        assert tab.evaluate("document.documentElement.scrollWidth") <= 1280
        sign_out = tab.locator("form.session button").bounding_box()
        assert sign_out is not None and sign_out["x"] + sign_out["width"] <= 1280
    finally:
        tab.context.close()
