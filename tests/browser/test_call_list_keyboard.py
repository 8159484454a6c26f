"""The call list by keyboard (its bulk actions, a refused filter), in Debian's chromium (Playwright) against a live
server.

Found by exploratory testing: Enter in the bulk "Tag" field pressed the form's first button, Assign, which said
"choose a supervisor from the list" and added no tag."""

from __future__ import annotations

from typing import Any

import pytest

from recordings_service.calls.tags import tags_of
from recordings_service.models.account import Role
from tests.browser.a11y_support import A11yLive, a11y_live  # noqa: F401 — a11y_live: fixture

pytestmark = pytest.mark.browser


def test_enter_in_the_tag_field_adds_the_tag_to_the_ticked_calls(browser: Any, a11y_live: A11yLive) -> None:  # noqa: F811
    tab = a11y_live.sign_in(browser, Role.QA_SUPERVISOR)
    try:
        tab.goto("/calls/")
        tab.check(f"#pick-{a11y_live.mono_id}")
        tab.fill("#bulk-tag", "callback promised")
        tab.press("#bulk-tag", "Enter")
        tab.wait_for_selector("text=Tagged 1 call.")
        with a11y_live.runtime.sessions() as session:
            assert tags_of(session, [a11y_live.mono_id]) == {a11y_live.mono_id: ["callback promised"]}
    finally:
        tab.context.close()


def test_a_refused_filter_takes_the_focus_to_its_field(browser: Any, a11y_live: A11yLive) -> None:  # noqa: F811
    """Found by an accessibility pass: a refused form came back with its field marked invalid and the focus at the
    page's top, so a keyboard user tabbed through the whole header to reach it."""
    tab = a11y_live.sign_in(browser, Role.QA_SUPERVISOR)
    try:
        tab.goto("/calls/?score_min=200")
        focused = tab.evaluate("[document.activeElement.id, document.activeElement.getAttribute('aria-invalid')]")
        assert focused == ["score_min", "true"]
        tab.goto("/calls/")
        assert tab.evaluate("document.activeElement.tagName") == "BODY"  # nothing refused, nothing moved
    finally:
        tab.context.close()
