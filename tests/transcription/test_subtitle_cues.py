"""Transcript exports whose text is not what Whisper usually writes: markup characters and line breaks.

A corrected (rectified) segment's text is whatever was typed, so it can hold `<`, `&`, `-->` or a blank line; each
must stay inside its own cue in SRT and WebVTT, and on its own line in the plain text.
"""

from __future__ import annotations

from typing import Any

from recordings_service.models import Transcript
from recordings_service.transcription.transcripts import TranscriptView, as_srt, as_text, as_vtt


def _view(*said: tuple[str, float, float, str]) -> TranscriptView:
    segments: list[dict[str, Any]] = [
        {"speaker": speaker, "start": start, "end": end, "text": text} for speaker, start, end, text in said
    ]
    return TranscriptView(Transcript(), False, segments)


MARKUP = _view(
    ("agent", 1.0, 2.5, "Is it <b>1 < 2</b> & 3 --> 4?"),
    ("customer", 3.0, 4.0, "Yes."),
)
BLANK_LINE = _view(
    ("agent", 0.0, 1.0, " First line.\n\n2\n00:00:09,000 --> 00:00:10,000\nInjected."),
    ("customer", 3723.4567, 3725.0, "After an hour."),
)


def test_vtt_cue_text_is_escaped_so_markup_and_arrows_stay_text() -> None:
    vtt = as_vtt(MARKUP)
    assert vtt == (
        "WEBVTT\n\n"
        "00:00:01.000 --> 00:00:02.500\n<v agent>Is it &lt;b&gt;1 &lt; 2&lt;/b&gt; &amp; 3 --&gt; 4?\n\n"
        "00:00:03.000 --> 00:00:04.000\n<v customer>Yes.\n\n"
    )


def test_a_line_break_in_a_segment_does_not_end_or_forge_a_cue() -> None:
    srt_cues = as_srt(BLANK_LINE).split("\n\n")
    assert srt_cues[:2] == [
        "1\n00:00:00,000 --> 00:00:01,000\nagent: First line. 2 00:00:09,000 --> 00:00:10,000 Injected.",
        "2\n01:02:03,457 --> 01:02:05,000\ncustomer: After an hour.",
    ]
    vtt_cues = as_vtt(BLANK_LINE).split("\n\n")
    assert [cue.count("\n") for cue in vtt_cues[1:3]] == [1, 1]
    assert as_text(BLANK_LINE).splitlines() == [
        "[00:00:00.000] agent: First line. 2 00:00:09,000 --> 00:00:10,000 Injected.",
        "[01:02:03.457] customer: After an hour.",
    ]
