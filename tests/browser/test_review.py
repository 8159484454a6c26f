"""Browser tests: a QA supervisor in Debian's chromium (driven by Playwright) against a live server.

The server is the real app in a werkzeug thread, on a committed SQLite database of its own and the
session's SeaweedFS. Transcripts are inserted with known word timings; Whisper does not run here.
Screenshots of the pages land in tests/artifacts/ (gitignored; CI keeps them as artifacts).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import make_server

from recordings_service import accounts, schema
from recordings_service.calls.waveform import peaks_key
from recordings_service.config import Settings
from recordings_service.db import make_engine, make_sessionmaker
from recordings_service.evaluations import default_form
from recordings_service.models import AuditEvent, Evaluation, Recording, Transcript
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from recordings_service.transcription.search_index import index_transcript
from tests.browser_support import score_with_first_answers, wait_until, watch_errors
from tests.factories.accounts import PASSWORD, SYSTEM, browser_sign_in, enrol_seed
from tests.factories.reviews import make_transcribed_call, word_start
from web import create_app
from web.ui import call_page

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parents[1] / "artifacts"
SEARCH_WORD = "kilowatt"
SEEK_TOLERANCE_S = 0.3


@dataclass
class Live:
    url: str
    app: Flask
    runtime: Runtime
    username: str
    recording_id: str
    secret: str

    def count(self, action: str) -> int:
        with self.runtime.sessions() as session:
            query = select(func.count()).where(AuditEvent.action == action, AuditEvent.object_id == self.recording_id)
            return session.scalar(query.select_from(AuditEvent)) or 0


@pytest.fixture(scope="module")
def live(
    base_settings: Settings, store: S3ObjectStore, envelope: Envelope, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    data_dir = tmp_path_factory.mktemp("browser")
    settings = replace(base_settings, data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'callvault.db'}")
    engine = make_engine(settings.database_url)
    schema.upgrade(engine)
    runtime = Runtime(
        settings=settings, engine=engine, sessions=make_sessionmaker(engine), store=store, envelope=envelope
    )
    username = "qa-" + secrets.token_hex(3)
    with runtime.sessions() as session:
        supervisor = accounts.create_user(
            session, actor=SYSTEM, username=username, role=Role.QA_SUPERVISOR, password=PASSWORD
        )
        secret = enrol_seed(supervisor, envelope)
        recording = make_transcribed_call(session, store, envelope, queue="browser-test")
        _index_for_search(session, recording)
        session.commit()
        recording_id = recording.id
    app = create_app(settings, runtime=runtime)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="browser-test-server", daemon=True)
    thread.start()
    try:
        yield Live(f"http://127.0.0.1:{server.server_port}", app, runtime, username, recording_id, secret)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with runtime.sessions() as session:
            stored = session.get(Recording, recording_id)
            if stored is not None:
                store.delete(stored.storage_key)
                store.delete(peaks_key(stored.id))
        engine.dispose()


def _index_for_search(session: Any, recording: Recording) -> None:
    """Put the transcript in the full-text index, as the transcription job does."""
    transcript = session.scalars(select(Transcript).where(Transcript.recording_id == recording.id)).one()
    index_transcript(session, transcript)


@pytest.fixture(scope="module")
def signed_in(browser: Any, live: Live) -> dict[str, Any]:
    """The supervisor's signed-in session (its cookies), made once: a code is good for one sign-in per 30 s."""
    context = browser.new_context(base_url=live.url)
    try:
        browser_sign_in(context.new_page(), live.username, live.secret)
        state: dict[str, Any] = context.storage_state()
    finally:
        context.close()
    return state


@pytest.fixture
def page(browser: Any, live: Live, signed_in: dict[str, Any]) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live.url, storage_state=signed_in)
    tab = context.new_page()
    tab.goto(f"/calls/{live.recording_id}")
    errors: list[str] = []
    watch_errors(tab, errors)
    yield tab
    context.close()
    # A CSP violation or a script error would show up here.
    assert errors == []


def audio_time(page: Any) -> float:
    return float(page.evaluate("document.getElementById('call-audio').currentTime"))


def test_play_and_click_a_word_seeks_the_audio_there(page: Any, live: Live) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"/calls/{live.recording_id}")
    wait_until(page, "() => document.querySelectorAll('.w').length > 0")
    assert live.count("transcript.viewed") >= 1
    assert live.count("recording.played") == 0  # preload="none": opening the page is not a listen

    page.keyboard.press("k")  # play, from the keyboard
    wait_until(
        page, "() => { const a = document.getElementById('call-audio'); return !a.paused && a.currentTime > 0.6; }"
    )
    assert page.locator(".segments .w.playing").count() == 1  # the word being said is highlighted

    target = word_start(SEARCH_WORD)
    page.locator(f'.w[data-start="{target}"]').click()
    assert abs(audio_time(page) - target) <= SEEK_TOLERANCE_S
    wait_until(page, f"() => document.querySelector('.segments .w.playing')?.textContent === '{SEARCH_WORD}'")
    page.screenshot(path=str(ARTIFACTS / "call-page.png"), full_page=True)

    page.keyboard.press("k")  # pause
    wait_until(page, "() => document.getElementById('call-audio').paused")
    before = audio_time(page)
    page.keyboard.press("j")
    assert audio_time(page) == pytest.approx(max(before - 5, 0), abs=0.05)
    page.keyboard.press("l")  # (on a word, ← and → move between words instead: tests/browser/test_call_page_a11y.py)
    assert audio_time(page) == pytest.approx(before, abs=0.05)

    # Typing a comment does not drive the player; the comment lands at the moment played.
    page.fill("#comment-text", "kk jj ll")
    assert audio_time(page) == pytest.approx(before, abs=0.05)
    page.click("text=Add comment at this moment")
    page.wait_for_selector(".comment-list li .text")
    assert page.locator(".marks .mark").count() == 1
    assert live.count("recording.played") == 1  # one listen, however many ranges and seeks


def test_search_open_at_the_word_and_score_the_call(page: Any, live: Live) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto("/calls/")
    page.fill("#q", SEARCH_WORD)
    page.click(".call-filters button[type=submit]")
    page.wait_for_selector("a.at")
    page.screenshot(path=str(ARTIFACTS / "call-list.png"), full_page=True)
    page.locator("a.at").first.click()
    page.wait_for_url(f"**/calls/{live.recording_id}?t=*")
    start_at = float(page.evaluate("document.querySelector('.player').dataset.startAt"))
    assert abs(audio_time(page) - start_at) <= SEEK_TOLERANCE_S
    assert page.locator(".segments .w.playing").count() == 1  # the found moment is shown

    from recordings_service.evaluations import default_form, forms

    with live.runtime.sessions() as session:
        default_form.seed_default_form(session, actor=SYSTEM)  # a published form to score on, if none yet
        session.commit()
        assert forms.current_forms(session)
    page.reload()  # the panel offers the form published after the page was loaded
    score_with_first_answers(page)
    page.wait_for_url(f"**/calls/{live.recording_id}?form_id=*")  # back at the call, its evaluation panel
    page.goto("/calls/?queue=browser-test&evaluated=yes")
    page.wait_for_selector("table.calls")
    rows = page.locator("table.calls tbody tr")
    assert rows.count() == 1
    assert "Not evaluated" not in rows.first.inner_text()
    page.screenshot(path=str(ARTIFACTS / "call-list-evaluated.png"), full_page=True)


def test_a_refused_playback_ticket_is_renewed_and_the_call_plays_on(
    browser: Any, live: Live, signed_in: dict[str, Any]
) -> None:
    # Its own tab, not the `page` fixture: the refused fetch is logged as a console error on purpose here.
    context = browser.new_context(base_url=live.url, storage_state=signed_in)
    tab = context.new_page()
    try:
        tab.goto(f"/calls/{live.recording_id}")
        tab.wait_for_selector("#call-audio")
        issued = live.count("recording.play_ticket_issued")
        # As once the page's ticket has expired: the player's next fetch is refused.
        tab.evaluate("() => { const a = document.getElementById('call-audio'); a.src = a.src + 'x'; }")
        tab.keyboard.press("k")
        wait_until(tab, "() => { const a = document.getElementById('call-audio'); return a.currentTime > 0.3; }")
        assert live.count("recording.play_ticket_issued") == issued + 1
    finally:
        context.close()


# ---------------------------------------------------------------- the evaluation panel beside the player


def evaluations_of(server: Live, recording_id: str) -> list[Evaluation]:
    with server.runtime.sessions() as session:
        rows = session.scalars(select(Evaluation).where(Evaluation.recording_id == recording_id)).all()
        for row in rows:
            _ = [answer.at_s for answer in row.answers]  # loaded before the session closes
        return list(rows)


@pytest.fixture
def fresh_call(live: Live) -> Iterator[str]:
    """A transcribed call of its own, which no other test of this module has scored."""
    runtime = live.runtime
    with runtime.sessions() as session:
        default_form.seed_default_form(session, actor=SYSTEM)  # a published form to score on, if none yet
        recording = make_transcribed_call(session, runtime.store, runtime.envelope, queue="browser-panel")
        session.commit()
        recording_id, key = recording.id, recording.storage_key
    yield recording_id
    runtime.store.delete(key)
    runtime.store.delete(peaks_key(recording_id))


def test_stamp_evidence_from_the_player_autosave_a_draft_and_submit(page: Any, live: Live, fresh_call: str) -> None:
    """The evaluation panel beside the player: "At" stamps the playback time on an answer, the draft saves itself
    without a page load, a second visit opens it, and submitting lists the evaluation on the call page."""
    page.goto(f"/calls/{fresh_call}")
    panel = page.locator("#evaluation-form")
    panel.wait_for()
    loads = []
    page.on("load", lambda _: loads.append(1))

    # Move the player to a word of the transcript, then stamp that moment on the first question.
    moment = word_start(SEARCH_WORD)
    page.locator(f'.segments .w[data-start="{moment:g}"]').first.click()
    wait_until(page, f"() => Math.abs(document.getElementById('call-audio').currentTime - {moment}) < 0.3")
    page.evaluate("document.getElementById('call-audio').pause()")
    first = panel.locator("fieldset.question").first
    first.locator("button.stamp").click()
    stamped = float(first.locator("input[type=number]").input_value())
    assert abs(stamped - moment) < 0.3
    first.locator("input[type=radio]").first.check()

    wait_until(page, "() => document.getElementById('evaluation-status').textContent.includes('Draft saved')")
    assert loads == []  # saved by the panel's script, not by a page load
    (draft,) = evaluations_of(live, fresh_call)
    assert draft.state == "draft" and draft.score is None
    assert [round(a.at_s or 0, 1) for a in draft.answers] == [round(stamped, 1)]

    page.reload()  # a second attempt opens the draft, answers and evidence as they were
    first = page.locator("#evaluation-form fieldset.question").first
    assert first.locator("input[type=radio]").first.is_checked()
    assert abs(float(first.locator("input[type=number]").input_value()) - stamped) < 0.01

    for group in page.locator("#evaluation-form fieldset.question").all():
        group.locator("input[type=radio]").first.check()
    page.click("#evaluation-form button[type=submit]")
    page.wait_for_url(f"**/calls/{fresh_call}?form_id=*")
    listed = page.locator("table.call-evaluations tbody tr")
    assert listed.count() == 1 and "submitted" in listed.first.inner_text()
    (submitted,) = evaluations_of(live, fresh_call)
    assert (submitted.id, submitted.state, submitted.version) == (draft.id, "submitted", 1)


def test_at_the_end_of_the_call_the_stamped_moment_is_within_the_call(page: Any, fresh_call: str) -> None:
    """Found by exploratory testing: "At" at the call's end rounded the playback time up to the next tenth, past the
    call's end (26.7 of a 26.678 s call), so the browser refused to submit the form and the draft was not saved."""
    page.goto(f"/calls/{fresh_call}")
    panel = page.locator("#evaluation-form")
    panel.wait_for()
    page.evaluate("const a = document.getElementById('call-audio'); a.muted = true; a.play()")
    wait_until(page, "() => document.getElementById('call-audio').duration > 0")
    page.evaluate("const a = document.getElementById('call-audio'); a.pause(); a.currentTime = a.duration")
    wait_until(page, "() => { const a = document.getElementById('call-audio'); return a.currentTime === a.duration }")
    first = panel.locator("fieldset.question").first
    first.locator("button.stamp").click()
    field = first.locator("input[type=number]")
    stamped, maximum = float(field.input_value()), float(field.get_attribute("max") or "nan")
    assert maximum - 0.1 < stamped <= maximum
    assert field.evaluate("input => input.validity.valid")


def test_a_waveform_the_server_is_busy_preparing_is_asked_for_again_and_drawn(
    browser: Any, live: Live, signed_in: dict[str, Any], fresh_call: str
) -> None:
    """A web worker computes the peaks of one call not cached yet at a time (`call_page.PEAKS_SLOTS`); a page asking
    meanwhile is told 503 with Retry-After, and asks again then (found by exploratory testing: eight viewers of a
    long call held every thread of the web workers)."""
    # Its own tab, not the `page` fixture: the refused fetch is logged as a console error on purpose here.
    context = browser.new_context(base_url=live.url, storage_state=signed_in)
    tab = context.new_page()
    errors: list[str] = []
    watch_errors(tab, errors, failed_loads_expected=True)
    statuses: list[int] = []
    peaks_url = f"/calls/{fresh_call}/peaks.json"
    tab.on("response", lambda response: statuses.append(response.status) if peaks_url in response.url else None)
    try:
        assert call_page.PEAKS_SLOTS.acquire(timeout=60)  # as another viewer's computation would
        try:
            tab.goto(f"/calls/{fresh_call}")
            deadline = time.monotonic() + 15
            while 503 not in statuses:
                assert time.monotonic() < deadline, "the page never asked for its waveform"
                tab.wait_for_timeout(100)
        finally:
            call_page.PEAKS_SLOTS.release()
        deadline = time.monotonic() + 30
        while 200 not in statuses:
            assert time.monotonic() < deadline, f"the waveform was not asked for again: {statuses}"
            tab.wait_for_timeout(100)
    finally:
        context.close()
    assert statuses == [503, 200] and errors == []
    with live.runtime.sessions() as session:
        viewed = select(AuditEvent).where(
            AuditEvent.action == "recording.waveform_viewed", AuditEvent.object_id == fresh_call
        )
        assert len(session.scalars(viewed).all()) == 1  # the refused ask left nothing; the second was served
