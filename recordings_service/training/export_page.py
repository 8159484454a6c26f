"""The `index.html` of an exported training set: one self-contained page (no network, no external files but the
clips beside it) that plays the clips in order with each transcript line lit while it is said.

The page is in its reader's language. Its words come in as `PageWords`, which the web layer fills from its
catalogue (Flask-Babel, web/translations) for the language of the request downloading the export: the core has
no Flask and no catalogue of its own, and the words stay where `make translations` extracts them (web/). The
defaults are the English the page always said, for a caller without a catalogue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any


def _exported(moment: datetime) -> str:
    return f"Exported {moment:%Y-%m-%d %H:%M} {moment.tzname()}."


def _state(status: str, reason: str | None) -> str:
    return f"{status} ({reason})" if reason else status


def _seconds(value: float) -> str:
    return f"{value:.1f} s"


@dataclass(frozen=True)
class PageWords:
    """What the page says, in its reader's language (see the module's note); plain text, escaped on the page."""

    lang: str = "en"
    # When it was exported, given the time in the organisation's zone.
    exported: Callable[[datetime], str] = _exported
    notice: str = (
        "Personal data is removed from the audio and the transcripts. For training use only; do not copy further."
    )
    play_all: str = "Play all"
    # A transcript line's speaker as stored (agent, customer) as the reader reads it.
    speaker: Callable[[str], str] = str
    # A place whose clip is not in the export: its status (removed, withdrawn, outdated, deleted) and reason.
    state: Callable[[str, str | None], str] = _state
    # A clip's length.
    seconds: Callable[[float], str] = _seconds


ENGLISH = PageWords()

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #1d1d1f; }
section { border-top: 1px solid #ccc; padding: 1rem 0; }
section.gap { color: #777; }
.meta { color: #555; font-size: 0.9rem; }
audio { width: 100%; }
ol.transcript { list-style: none; padding: 0; }
ol.transcript li { padding: 0.2rem 0.4rem; border-radius: 0.3rem; }
ol.transcript li.current { background: #fff3b0; }
.speaker { font-weight: 600; margin-right: 0.4rem; }
"""

# Plays the clips one after another and lights the transcript line being said. No network access.
_SCRIPT = """
(function () {
  var players = Array.prototype.slice.call(document.querySelectorAll("audio"));
  players.forEach(function (player, index) {
    var lines = player.closest("section").querySelectorAll("li[data-start]");
    player.addEventListener("timeupdate", function () {
      var now = player.currentTime;
      lines.forEach(function (line) {
        var on = now >= parseFloat(line.dataset.start) && now < parseFloat(line.dataset.end);
        line.classList.toggle("current", on);
      });
    });
    player.addEventListener("ended", function () {
      lines.forEach(function (line) { line.classList.remove("current"); });
      if (index + 1 < players.length) { players[index + 1].play(); }
    });
    player.addEventListener("play", function () {
      players.forEach(function (other) { if (other !== player) { other.pause(); } });
    });
  });
  var start = document.getElementById("play-all");
  if (start && players.length) { start.addEventListener("click", function () { players[0].play(); }); }
})();
"""


def index_html(
    title: str, description: str, manifest: dict[str, Any], *, exported: datetime, words: PageWords = ENGLISH
) -> str:
    """The page for `manifest` (export.manifest) in `words`' language: everything written into it is escaped.
    `exported`: when, in the organisation's time zone."""
    sections = "\n".join(_section(place, words) for place in manifest["clips"])
    return f"""<!doctype html>
<html lang="{escape(words.lang)}"><head><meta charset="utf-8"><title>{escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{_STYLE}</style></head>
<body>
<h1>{escape(title)}</h1>
<p>{escape(description)}</p>
<p class="meta">{escape(words.exported(exported))} {escape(words.notice)}</p>
<button type="button" id="play-all">{escape(words.play_all)}</button>
{sections}
<script>{_SCRIPT}</script>
</body></html>
"""


def _section(place: dict[str, Any], words: PageWords) -> str:
    number = int(place["number"])
    if "files" not in place:
        state = words.state(str(place["status"]), str(place["reason"]) if place.get("reason") else None)
        return f'<section class="gap" id="clip-{number}"><h2>{number}. {escape(state)}</h2></section>'
    files = place["files"]
    lines = "\n".join(
        f'<li data-start="{float(line["start"]):.3f}" data-end="{float(line["end"]):.3f}">'
        f'<span class="speaker">{escape(words.speaker(str(line["speaker"])))}</span>{escape(str(line["text"]))}</li>'
        for line in place["transcript"]
    )
    meta = [words.seconds(float(place["duration_s"]))]
    if place.get("agent"):
        meta.append(str(place["agent"]))
    if place.get("tags"):
        meta.append(", ".join(place["tags"]))
    notes = f"<p>{escape(place['notes'])}</p>" if place.get("notes") else ""
    return f"""<section id="clip-{number}">
<h2>{number}. {escape(place["title"])}</h2>
<p class="meta">{escape(" · ".join(meta))}</p>{notes}
<audio controls preload="metadata"><source src="{escape(files["opus"])}" type="audio/ogg; codecs=opus">
<source src="{escape(files["mp3"])}" type="audio/mpeg"></audio>
<ol class="transcript">{lines}</ol>
</section>"""
