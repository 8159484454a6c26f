"""The training library as a trainer walks it in Debian's chromium (Playwright) against a live server.

A trainer pulls a stratified sample of 5 calls spread over three queues, opens one, takes a clip's span from
the redacted transcript, cuts it, gathers it into a set and plays the set: the clip's audio plays and its
transcript follows. Screenshots land in tests/artifacts/ (gitignored).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from recordings_service import accounts
from recordings_service.config import Settings
from recordings_service.models import Recording, TrainingClip, User
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.browser_support import private_runtime, serving, wait_until, watch_errors
from tests.factories.accounts import PASSWORD, SYSTEM, browser_sign_in, enrol_seed
from tests.factories.evaluations import actor_of
from tests.factories.training import clip_row, stereo_call
from web import create_app

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parents[1] / "artifacts"
QUEUES = ("billing", "sales", "moving")
TRAINER = "tiina"


@dataclass
class Live:
    url: str
    runtime: Runtime
    secret: str


@pytest.fixture(scope="module")
def live(
    base_settings: Settings, store: S3ObjectStore, envelope: Envelope, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    runtime = private_runtime(base_settings, store, envelope, tmp_path_factory.mktemp("training-browser"))
    with runtime.sessions() as session:
        trainer = accounts.create_user(session, actor=SYSTEM, username=TRAINER, role=Role.TRAINER, password=PASSWORD)
        secret = enrol_seed(trainer, envelope)
        for queue in QUEUES * 2:
            stereo_call(session, store, envelope, queue=queue)
        session.commit()
    try:
        with serving(create_app(runtime.settings, runtime=runtime), "training-browser-server") as url:
            yield Live(url, runtime, secret)
    finally:
        with runtime.sessions() as session:
            for recording in session.scalars(select(Recording)):
                store.delete(recording.storage_key)
                for version in store.list_versions(f"derived/{recording.id}/"):
                    store.delete(version.key)
        runtime.engine.dispose()


@pytest.fixture
def page(browser: Any, live: Live) -> Iterator[Any]:
    """The trainer signed in (password and TOTP), checked for script and CSP errors at the end."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live.url)
    tab = context.new_page()
    errors: list[str] = []
    watch_errors(tab, errors)
    browser_sign_in(tab, TRAINER, live.secret)
    yield tab
    context.close()
    assert errors == []


def test_a_trainer_samples_cuts_a_clip_builds_a_set_and_plays_it(page: Any) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.click("header nav >> text=Training")
    page.fill("#size", "5")
    page.check("input[name=mode][value=stratified]")
    page.select_option("#stratify_by", "queue")
    page.click("text=Pull the sample")
    page.wait_for_selector("table.sampled")
    assert page.locator(".drawn-count").inner_text() == "5"
    assert page.locator("table.sampled tbody tr").count() == 5
    counts = sorted(int(row.locator("td").nth(1).inner_text()) for row in page.locator("table.strata tbody tr").all())
    assert counts == [1, 2, 2]  # an even spread over the three queues
    page.screenshot(path=str(ARTIFACTS / "training-sample.png"), full_page=True)

    page.locator("table.sampled tbody tr a").first.click()
    page.wait_for_selector(".clip-form")
    page.locator("[data-start-from]").nth(0).click()  # the first segment's start ...
    page.locator("[data-end-at]").nth(1).click()  # ... to the second's end
    assert (page.input_value("#start_s"), page.input_value("#end_s")) == ("0.5", "8.9")
    assert page.locator(".segment.in-clip").count() == 2
    page.fill("#title", "Greeting and identity")
    page.fill("#tags", "greeting")
    page.click("text=Cut the clip")
    page.wait_for_selector("text=cut from the redacted audio")
    page.evaluate("window.scrollTo(0, 0)")  # the player is sticky: a full-page shot shows it where it belongs
    page.screenshot(path=str(ARTIFACTS / "training-call.png"), full_page=True)

    page.click("nav.subnav >> text=Clips")
    page.check("table.clips tbody input[name=clip_ids]")
    page.fill("#set-title", "First week")
    page.click("text=Create the set")
    page.wait_for_selector("text=Training set “First week” created.")

    page.click("#play-set")
    wait_until(
        page,
        "() => { const a = document.querySelector('audio.set-audio'); return !a.paused && a.currentTime > 0.5; }",
    )
    wait_until(page, "() => document.querySelector('.set-item.current .clip-lines .line.current') !== null")
    page.screenshot(path=str(ARTIFACTS / "training-set-player.png"), full_page=True)


def test_enter_in_a_new_sets_title_creates_the_set_and_deletes_no_clip(page: Any, live: Live) -> None:
    """Found by exploratory testing: the clips' Delete buttons were in the set's form ahead of "Create the set", so
    Enter in the title (a keyboard user's way to submit) pressed the first row's Delete: the clip was gone, and no
    set was made."""
    with live.runtime.sessions() as session:
        author = session.scalars(select(User).where(User.username == TRAINER)).one()
        clip = clip_row(session, session.scalars(select(Recording).order_by(Recording.id)).first(), actor_of(author))
        clip.title = "Kept through Enter"
        session.commit()
        clip_id = clip.id
    page.goto("/training/clips/")
    page.check(f"#pick-{clip_id}")
    page.fill("#set-title", "Made with Enter")
    page.press("#set-title", "Enter")
    page.wait_for_selector("text=Training set “Made with Enter” created.")
    with live.runtime.sessions() as session:
        kept = session.get(TrainingClip, clip_id)
        assert kept is not None and kept.removed_at is None
