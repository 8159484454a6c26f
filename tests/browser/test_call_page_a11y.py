"""The call page by keyboard and for screen readers, and its player, in Debian's chromium (Playwright).

The transcript's words are one Tab stop with the arrow keys between them; Enter or a click on a word plays
from it, paused or not; the focus ring reaches 3:1 (computed from the computed styles) also on the word being
played; the sticky player never covers what has focus; a posted comment's confirmation takes focus; the
Finnish "Verify" buttons are named by their visible text first. The waveform has a lane per speaker on a
stereo call, one on a mono call, and shows the silences and overtalk the server found.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from recordings_service.calls.waveform import peaks_key
from recordings_service.models import Recording
from recordings_service.models.account import Role
from tests.audio.fixture_files import OVERTALK_CALL_OVERTALK, OVERTALK_CALL_SILENCES
from tests.browser.a11y_support import A11yLive, a11y_live, choose_language  # noqa: F401 — a11y_live: fixture
from tests.browser_support import wait_until
from tests.factories.recordings import make_recording
from tests.factories.reviews import word_start

pytestmark = pytest.mark.browser

SEEK_TOLERANCE_S = 0.3
MIN_FOCUS_CONTRAST = 3.0
WORD_INDEX = "Array.from(document.querySelectorAll('.w[data-start]')).indexOf(document.activeElement)"

# The focus ring against what lies next to it: WCAG relative luminance and contrast ratio of CSS colours, read
# from the computed styles; a transparent background is the first opaque one behind it.
CONTRAST_JS = """
(el) => {
  const rgb = (css) => css.match(/[\\d.]+/g).map(Number);
  const lum = (css) => {
    const [r, g, b] = rgb(css).slice(0, 3).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => {
    const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const opaque = (node) => {
    for (; node; node = node.parentElement) {
      const bg = getComputedStyle(node).backgroundColor;
      const parts = rgb(bg);
      if (parts.length < 4 || parts[3] > 0) return bg;
    }
    return "rgb(255, 255, 255)";
  };
  const style = getComputedStyle(el);
  return {
    style: style.outlineStyle,
    width: parseFloat(style.outlineWidth),
    offset: parseFloat(style.outlineOffset),
    against_own: ratio(style.outlineColor, opaque(el)),
    against_around: ratio(style.outlineColor, opaque(el.parentElement)),
  };
}
"""


@pytest.fixture(scope="module")
def qa_context(browser: Any, a11y_live: A11yLive) -> Iterator[Any]:  # noqa: F811
    """One sign-in for the module (an account may sign in at most three times in 30 s)."""
    tab = a11y_live.sign_in(browser, Role.QA_SUPERVISOR)
    yield tab.context
    tab.context.close()


@pytest.fixture
def qa_page(qa_context: Any, a11y_live: A11yLive) -> Iterator[Any]:  # noqa: F811
    tab = qa_context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(f"/calls/{a11y_live.stereo_id}")
    wait_until(tab, "() => document.querySelectorAll('.w[data-start]').length > 50")
    yield tab
    tab.close()
    assert errors == []


def audio(page: Any) -> dict[str, Any]:
    return dict(
        page.evaluate(
            "(() => { const a = document.getElementById('call-audio'); "
            "return {paused: a.paused, t: a.currentTime}; })()"
        )
    )


def word(page: Any, text: str) -> Any:
    return page.locator(f'.w[data-start="{word_start(text)}"]')


def test_the_words_are_one_tab_stop_and_the_arrow_keys_move_between_them(qa_page: Any) -> None:
    page = qa_page
    word_count = page.locator(".w[data-start]").count()
    page.evaluate("document.activeElement.blur()")
    stops_on_words, stops = 0, 0
    for _ in range(300):  # the whole page, once round
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement === document.body"):
            break
        stops += 1
        if page.evaluate(WORD_INDEX) >= 0:
            stops_on_words += 1
    assert stops_on_words == 1, f"{stops_on_words} Tab stops among {word_count} words ({stops} on the page)"

    first = page.locator(".w[data-start]").first
    first.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.evaluate(WORD_INDEX) == 2
    page.keyboard.press("ArrowLeft")
    assert page.evaluate(WORD_INDEX) == 1
    assert page.locator('.w[data-start][tabindex="0"]').count() == 1  # the stop moved with the focus
    page.keyboard.press("End")
    assert page.evaluate(WORD_INDEX) == word_count - 1
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(WORD_INDEX) == word_count - 1  # Tab comes back to the word last visited
    page.keyboard.press("Home")
    assert page.evaluate(WORD_INDEX) == 0
    assert audio(page) == {"paused": True, "t": 0}  # moving among words neither plays nor seeks


def test_enter_on_a_word_plays_from_it(qa_page: Any) -> None:
    target = word(qa_page, "kilowatt")
    target.focus()
    assert audio(qa_page)["paused"]
    qa_page.keyboard.press("Enter")
    wait_until(qa_page, "() => !document.getElementById('call-audio').paused")
    assert abs(audio(qa_page)["t"] - word_start("kilowatt")) <= SEEK_TOLERANCE_S
    wait_until(qa_page, "() => document.querySelector('.segments .w.playing')?.textContent === 'kilowatt'")


def test_clicking_a_word_while_paused_plays_from_it(qa_page: Any) -> None:
    qa_page.keyboard.press("k")
    wait_until(qa_page, "() => document.getElementById('call-audio').currentTime > 0.5")
    qa_page.keyboard.press("k")
    wait_until(qa_page, "() => document.getElementById('call-audio').paused")

    word(qa_page, "contract").click()
    wait_until(qa_page, "() => !document.getElementById('call-audio').paused")
    assert abs(audio(qa_page)["t"] - word_start("contract")) <= SEEK_TOLERANCE_S


def test_the_focus_ring_reaches_three_to_one_also_on_the_word_being_played(qa_page: Any) -> None:
    page = qa_page
    target = word(page, "kilowatt")
    target.focus()
    page.keyboard.press("Enter")
    wait_until(page, "() => document.querySelector('.segments .w.playing')?.textContent === 'kilowatt'")
    page.keyboard.press("k")
    wait_until(page, "() => document.getElementById('call-audio').paused")
    assert "playing" in (target.get_attribute("class") or "")
    target.focus()
    ring = target.evaluate(CONTRAST_JS)
    assert ring["style"] == "solid" and ring["width"] >= 2
    assert min(ring["against_own"], ring["against_around"]) >= MIN_FOCUS_CONTRAST, ring

    # And on the other kinds of control: a link, a button, a field.
    for selector in ("a.brand", "button.link[data-seek]", "form.comment-form button", "#comment-text"):
        control = page.locator(selector).first
        control.focus()
        ring = control.evaluate(CONTRAST_JS)
        assert ring["style"] == "solid" and ring["width"] >= 2, selector
        # Set off from the control, the ring lies on the background around it; touching, on the control too.
        touching = [ring["against_own"]] if ring["offset"] <= 0 else []
        assert min([ring["against_around"], *touching]) >= MIN_FOCUS_CONTRAST, (selector, ring)


def test_the_sticky_player_never_covers_what_has_focus(qa_page: Any) -> None:
    page = qa_page
    page.set_viewport_size({"width": 1280, "height": 700})
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.locator("#transcript button").last.focus()
    # Backwards through everything after the player: each control scrolls in at the top, where the player sticks.
    checked = 0
    for _ in range(60):
        page.keyboard.press("Shift+Tab")
        placed = page.evaluate(
            "(() => { const el = document.activeElement, player = document.querySelector('.player');"
            " const f = el.getBoundingClientRect(), p = player.getBoundingClientRect();"
            " const after = player.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING;"
            " return {what: el.outerHTML.slice(0, 80), top: f.top, player: p.bottom,"
            " after: !player.contains(el) && !!after};"
            " })()"
        )
        if not placed["after"]:
            break
        checked += 1
        assert placed["top"] >= placed["player"] - 1, placed
    assert checked > 10


def test_a_posted_comment_s_confirmation_takes_the_focus(qa_page: Any) -> None:
    page = qa_page
    page.fill("#comment-text", "Confirm the price here")
    page.click("form.comment-form button[type=submit]")
    page.wait_for_load_state()
    wait_until(page, "() => document.activeElement && document.activeElement.id === 'comment-added'")
    confirmation = page.locator("#comment-added")
    assert confirmation.inner_text() == "Comment added."
    assert confirmation.get_attribute("role") == "status"
    box = confirmation.bounding_box()
    player = page.locator(".player").bounding_box()
    assert box is not None and player is not None and box["y"] >= player["y"] + player["height"] - 1


def test_skip_to_transcript_lands_on_the_words_which_carry_the_call_s_language(qa_page: Any) -> None:
    page = qa_page
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to transcript"
    page.keyboard.press("Enter")
    assert page.evaluate(WORD_INDEX) == 0
    assert page.evaluate("document.activeElement.closest('[lang]').lang") == "en"


def test_in_finnish_a_verify_button_is_named_by_its_visible_text_first(qa_page: Any, a11y_live: A11yLive) -> None:  # noqa: F811
    page = qa_page
    choose_language(page, "fi")
    try:
        page.goto(f"/calls/{a11y_live.stereo_id}")
        button = page.locator("#seg-0 form button[type=submit]")
        visible = button.evaluate(
            "(b) => Array.from(b.childNodes).filter((n) => !(n.classList && n.classList.contains('visually-hidden')))"
            ".map((n) => n.textContent).join('').trim()"
        )
        assert visible and visible != "Verify"  # the Finnish label
        snapshot = button.aria_snapshot()  # - button "<visible text> …"
        name = snapshot.split('"')[1]
        assert name.startswith(visible), snapshot
        assert page.evaluate("document.documentElement.lang") == "fi"
        assert page.locator("#seg-0 .words").get_attribute("lang") == "en"  # an English call, in the Finnish UI
    finally:
        choose_language(page, "en")


def test_a_stereo_call_has_a_lane_per_speaker_and_a_mono_call_one(qa_page: Any, a11y_live: A11yLive) -> None:  # noqa: F811
    page = qa_page
    drawn = (
        "(() => Array.from(document.querySelectorAll('.lane-wave')).every((c) => "
        "c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((v) => v > 0)))()"
    )
    lanes = page.locator(".lane")
    assert lanes.count() == 2
    assert [lanes.nth(i).inner_text().strip() for i in range(2)] == ["Agent", "Customer"]
    assert [page.locator(".lane-wave").nth(i).get_attribute("data-lane") for i in range(2)] == ["left", "right"]
    wait_until(page, f"() => {drawn}")

    page.goto(f"/calls/{a11y_live.mono_id}")
    assert page.locator(".lane-wave").count() == 1
    wait_until(page, f"() => {drawn}")


def test_a_waveform_that_cannot_be_drawn_says_so(qa_page: Any, a11y_live: A11yLive) -> None:  # noqa: F811
    """Found by the odd-audio pass: audio the server could not decode for its waveform left the lanes empty without a
    word (the page ignored the peaks' `failed`)."""
    page = qa_page
    note = page.locator("#waveform-failed")
    assert note.is_hidden()  # the stereo call's waveform is drawn
    runtime = a11y_live.runtime
    with runtime.sessions() as session:
        broken = make_recording(session, runtime.store, runtime.envelope, audio=b"RIFF not a wave at all", channels=1)
        session.commit()
        broken_id = broken.id
    try:
        page.goto(f"/calls/{broken_id}")
        wait_until(page, "() => !document.getElementById('waveform-failed').hidden")
        assert note.inner_text() == "The waveform cannot be drawn from this call's audio."
    finally:
        with runtime.sessions() as session:
            stored = session.get(Recording, broken_id)
            assert stored is not None
            runtime.store.delete(stored.storage_key)
            runtime.store.delete(peaks_key(broken_id))


def test_silences_and_overtalk_are_marked_on_the_waveform(qa_page: Any, a11y_live: A11yLive) -> None:  # noqa: F811
    page = qa_page
    page.goto(f"/calls/{a11y_live.overtalk_id}")
    wait_until(page, "() => document.querySelectorAll('.spans .span').length > 0")
    found = page.evaluate(
        "Array.from(document.querySelectorAll('.spans .span')).map((s) => "
        "[s.classList.contains('overtalk') ? 'overtalk' : 'silence', +s.dataset.start, +s.dataset.end])"
    )
    expected = [("silence", *span) for span in OVERTALK_CALL_SILENCES] + [
        ("overtalk", *span) for span in OVERTALK_CALL_OVERTALK
    ]
    assert len(found) == len(expected), found
    for (kind, start, end), (want_kind, want_start, want_end) in zip(found, expected, strict=True):
        assert kind == want_kind
        assert start == pytest.approx(want_start, abs=0.5) and end == pytest.approx(want_end, abs=0.5)
    summary = page.locator("#waveform-summary").inner_text()
    assert summary.count("silence") == 2 and summary.count("overtalk") == 1  # read out, not only drawn
