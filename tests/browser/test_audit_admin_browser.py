"""In Debian's chromium (Playwright): the audit trail fits a 1366 px screen, and the admin's disable button asks
first (confirm.js; the CSP forbids inline script)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyotp
import pytest

from recordings_service import accounts
from recordings_service.audit import record_event
from recordings_service.config import Settings
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.browser_support import private_runtime, serving, watch_errors
from tests.factories.accounts import PASSWORD, SYSTEM, browser_sign_in
from web import create_app

pytestmark = pytest.mark.browser


@dataclass
class Live:
    url: str
    runtime: Runtime
    secrets: dict[str, str]  # username -> TOTP secret
    victim_id: str


@pytest.fixture(scope="module")
def live(
    base_settings: Settings, store: S3ObjectStore, envelope: Envelope, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    runtime = private_runtime(base_settings, store, envelope, tmp_path_factory.mktemp("audit-browser"))
    totp = {name: pyotp.random_base32() for name in ("olli", "root")}
    with runtime.sessions() as session:
        for name, role in (("olli", Role.COMPLIANCE), ("root", Role.ADMIN)):
            user = accounts.create_user(session, actor=SYSTEM, username=name, role=role, password=PASSWORD)
            user.mfa_secret = totp[name]
        victim = accounts.create_user(session, actor=SYSTEM, username="victim", role=Role.TRAINER, password=None)
        # Long unbroken values are what pushed the table past the screen's width.
        record_event(
            session,
            actor=SYSTEM,
            action="research.batch_package_built_for_a_long_study_name",
            object_type="research_batch",
            object_id="01" + "X" * 62,
            details={"criteria": "queue=" + "billing-and-collections-" * 12, "key": "exports/" + "0123456789" * 12},
        )
        session.commit()
        victim_id = victim.id
    try:
        with serving(create_app(runtime.settings, runtime=runtime), "audit-browser-server") as url:
            yield Live(url, runtime, totp, victim_id)
    finally:
        runtime.engine.dispose()


@pytest.fixture
def tab(browser: Any, live: Live) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=live.url)
    errors: list[str] = []
    page = context.new_page()
    # The favicon's 404 and the refused filter's 422 are expected; a CSP refusal or a script error is not.
    watch_errors(page, errors, failed_loads_expected=True)
    yield page
    context.close()
    assert errors == []


def test_the_audit_trail_has_no_horizontal_scroll_at_1366_px(tab: Any, live: Live) -> None:
    browser_sign_in(tab, "olli", live.secrets["olli"])
    tab.goto("/audit/")
    assert tab.locator("table.audit tbody tr").count() > 1
    assert tab.evaluate("document.scrollingElement.scrollWidth") <= 1366
    tab.goto("/audit/?since=yesterday")
    assert tab.locator("#since-error").is_visible()
    assert tab.input_value("#since") == "yesterday"
    assert tab.evaluate("document.scrollingElement.scrollWidth") <= 1366


def test_a_period_typed_as_a_date_shows_in_its_field(tab: Any, live: Live) -> None:
    """The refusal asks for "a date (2025-01-31)": typed so, the list was filtered but a datetime-local field showed
    it blank (tests/web/test_audit_period_fields.py)."""
    browser_sign_in(tab, "olli", live.secrets["olli"])
    tab.goto("/audit/?since=2026-12-01&until=2026-12-02T10:00%2B02:00")
    assert tab.input_value("#since") == "2026-12-01"
    assert tab.input_value("#until") == "2026-12-02T10:00+02:00"


def test_disabling_an_account_asks_first(tab: Any, live: Live) -> None:
    browser_sign_in(tab, "root", live.secrets["root"])
    tab.goto(f"/admin/users/{live.victim_id}")
    questions: list[str] = []

    def answer(dialog: Any, *, accept: bool) -> None:
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    tab.once("dialog", lambda dialog: answer(dialog, accept=False))
    tab.click("text=Disable account")
    tab.wait_for_load_state()
    assert questions and questions[0].startswith("Disable victim?")
    with live.runtime.sessions() as session:
        assert accounts.get_user(session, live.victim_id).active  # "Cancel" left it as it was

    tab.once("dialog", lambda dialog: answer(dialog, accept=True))
    with tab.expect_navigation():
        tab.click("text=Disable account")
    assert len(questions) == 2
    assert tab.locator("text=Enable account").is_visible()
    with live.runtime.sessions() as session:
        assert not accounts.get_user(session, live.victim_id).active
