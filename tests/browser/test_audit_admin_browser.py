"""In Debian's chromium (Playwright): the audit trail fits a 1366 px screen, and the admin's disable button asks
first (confirm.js; the CSP forbids inline script)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pyotp
import pytest
from werkzeug.serving import make_server

from recordings_service import accounts, schema
from recordings_service.audit import record_event
from recordings_service.config import Settings
from recordings_service.db import make_engine, make_sessionmaker
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
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
    data_dir = tmp_path_factory.mktemp("audit-browser")
    settings = replace(base_settings, data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'callvault.db'}")
    engine = make_engine(settings.database_url)
    schema.upgrade(engine)
    runtime = Runtime(
        settings=settings, engine=engine, sessions=make_sessionmaker(engine), store=store, envelope=envelope
    )
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
    server = make_server("127.0.0.1", 0, create_app(settings, runtime=runtime), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="audit-browser-server", daemon=True)
    thread.start()
    try:
        yield Live(f"http://127.0.0.1:{server.server_port}", runtime, totp, victim_id)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        engine.dispose()


@pytest.fixture
def tab(browser: Any, live: Live) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=live.url)
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: _console_error(errors, message))
    yield page
    context.close()
    assert errors == []


def _console_error(errors: list[str], message: Any) -> None:
    # The favicon's 404 and the refused filter's 422 are expected; a CSP refusal or a script error is not.
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        errors.append(message.text)


def test_the_audit_trail_has_no_horizontal_scroll_at_1366_px(tab: Any, live: Live) -> None:
    browser_sign_in(tab, "olli", live.secrets["olli"])
    tab.goto("/audit/")
    assert tab.locator("table.audit tbody tr").count() > 1
    assert tab.evaluate("document.scrollingElement.scrollWidth") <= 1366
    tab.goto("/audit/?since=yesterday")
    assert tab.locator("#since-error").is_visible()
    assert tab.input_value("#since") == "yesterday"
    assert tab.evaluate("document.scrollingElement.scrollWidth") <= 1366


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
