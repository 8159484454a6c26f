"""A research batch as new users walk it in Debian's chromium (Playwright) against a live server.

A compliance officer registers an institute and selects a few calls; approving their own batch is refused
on the page; a second officer approves it and the jobs side builds the package; an admin creates the
institute's partner account; the partner signs in, enrols TOTP, finds the batch and downloads the package,
whose SHA-256 is the one the page shows. Screenshots land in tests/artifacts/ (gitignored).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from jobs import research as research_jobs
from recordings_service import accounts
from recordings_service.config import Settings
from recordings_service.db import utcnow
from recordings_service.models import Recording, ResearchBatch
from recordings_service.models.account import Role
from recordings_service.research.lifecycle import exports_prefix
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.browser_support import private_runtime, serving, watch_errors
from tests.factories.accounts import PASSWORD, SYSTEM, browser_enrol, fresh_code
from tests.factories.research import research_call
from web import create_app

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parents[1] / "artifacts"
CALLS = 3


@dataclass
class Live:
    url: str
    runtime: Runtime
    secrets: dict[str, str]  # username -> TOTP secret

    def batch(self, study: str) -> ResearchBatch:
        with self.runtime.sessions() as session:
            return session.scalars(select(ResearchBatch).where(ResearchBatch.study == study)).one()


@pytest.fixture(scope="module")
def live(
    base_settings: Settings, store: S3ObjectStore, envelope: Envelope, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    runtime = private_runtime(base_settings, store, envelope, tmp_path_factory.mktemp("research-browser"))
    totp = {name: pyotp.random_base32() for name in ("olli", "riikka", "root")}
    with runtime.sessions() as session:
        for name, role in (("olli", Role.COMPLIANCE), ("riikka", Role.COMPLIANCE), ("root", Role.ADMIN)):
            user = accounts.create_user(session, actor=SYSTEM, username=name, role=role, password=PASSWORD)
            user.mfa_secret = totp[name]
        for _ in range(CALLS):
            research_call(session, store, envelope, started_at=utcnow() - timedelta(days=2))
        session.commit()
    try:
        with serving(create_app(runtime.settings, runtime=runtime), "research-browser-server") as url:
            yield Live(url, runtime, totp)
    finally:
        with runtime.sessions() as session:
            for recording in session.scalars(select(Recording)):
                store.delete(recording.storage_key)
            for batch in session.scalars(select(ResearchBatch)).all():
                for version in store.list_versions(exports_prefix(batch.id)):
                    store.delete(version.key)
        runtime.engine.dispose()


@pytest.fixture
def tabs(browser: Any, live: Live) -> Iterator[Any]:
    """New browser contexts (one per person), each checked for script and CSP errors at the end."""
    contexts: list[Any] = []
    errors: list[str] = []

    def open_tab() -> Any:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live.url, accept_downloads=True)
        contexts.append(context)
        tab = context.new_page()
        watch_errors(tab, errors)
        return tab

    yield open_tab
    for context in contexts:
        context.close()
    assert errors == []


def sign_in(page: Any, username: str, password: str = PASSWORD, *, totp: str | None = None) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    if totp is not None:
        assert "/login/mfa" in page.url
        page.fill("#code", fresh_code(totp))
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert "/login" not in page.url


def test_select_approve_build_and_the_partner_downloads(tabs: Any, live: Live) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    study = "Estimated bills " + secrets.token_hex(2)
    olli = tabs()
    sign_in(olli, "olli", totp=live.secrets["olli"])
    olli.click("header nav >> text=Research")
    olli.click("nav.subnav >> text=Institutes")
    olli.fill("#name", "Tampere Service Research Lab")
    olli.fill("#country", "FI")
    olli.fill("#agreement_ref", "DPA-2026-14")
    olli.fill("#agreement_date", "2026-10-01")
    olli.fill("#contact", "lab@example.fi")
    olli.click("form.stacked button[type=submit]")
    olli.wait_for_selector("text=Institute Tampere Service Research Lab registered.")

    olli.click("nav.subnav >> text=New batch")
    olli.fill("#study", study)
    olli.fill("#purpose", "How agents explain estimated bills")
    olli.select_option("#institute_id", label="Tampere Service Research Lab (FI)")
    olli.fill("#sample_size", str(CALLS))
    olli.click("text=Select the calls")
    olli.wait_for_selector(f"text={CALLS} calls selected, 0 excluded")
    olli.screenshot(path=str(ARTIFACTS / "research-batch-draft.png"), full_page=True)
    # Four eyes: the creator is not offered the approval, and is told who gives it.
    assert olli.locator("text=Approve the batch").count() == 0
    olli.wait_for_selector("text=A second compliance user, not the one who selected the calls, approves the batch")
    batch_path = olli.url.removeprefix(live.url)

    riikka = tabs()
    sign_in(riikka, "riikka", totp=live.secrets["riikka"])
    riikka.goto("/research/")
    riikka.click(f"text={study}")
    riikka.click("text=Approve the batch")
    riikka.wait_for_selector("text=Batch approved; the package is being built.")
    assert riikka.url.removeprefix(live.url) == batch_path

    research_jobs.build_batches(live.runtime)  # what the jobs process does next
    riikka.reload()
    assert riikka.locator(".batch-state").inner_text().strip() == "ready"
    built = live.batch(study)
    assert riikka.locator(f"text={built.package_sha256}").count() == 1

    root = tabs()
    sign_in(root, "root", totp=live.secrets["root"])
    root.goto("/admin/users/new")
    root.fill("#username", "lab.partner")
    root.select_option("#role", "research_partner")
    root.select_option("#institute_id", label="Tampere Service Research Lab (FI)")
    root.click("form.stacked button[type=submit]")
    root.wait_for_selector("text=Created lab.partner.")
    link = root.locator("#enrolment-link").inner_text().strip()
    # On CALLVAULT_PUBLIC_URL, where a deployment's proxy answers; this test's server listens on a port of its own.
    public = live.runtime.settings.public_url.rstrip("/")
    assert link.startswith(public + "/enrol/"), link
    link = live.url + link.removeprefix(public)

    partner = tabs()  # the partner's own browser: the link sets their password and second factor
    browser_enrol(partner, link, password="a partner password, long enough")
    partner.goto("/partner/")
    partner.click(f"text={study}")
    partner.wait_for_selector("text=Download the package (ZIP)")
    partner.screenshot(path=str(ARTIFACTS / "research-partner-batch.png"), full_page=True)
    assert "Send the confirmation" not in partner.content()  # nothing downloaded: no copy to return or destroy
    with partner.expect_download() as started:
        partner.click("text=Download the package (ZIP)")
    downloaded = Path(started.value.path())
    assert hashlib.sha256(downloaded.read_bytes()).hexdigest() == built.package_sha256
    partner.reload()
    assert "Send the confirmation" in partner.content()
