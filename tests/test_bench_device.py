"""bench.transcription_device: the call set decoded here reaches the other machine as the pipeline decodes it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.transcription import channel_windows
from bench.transcription_device import ScoredDraft, load_calls, prepare
from recordings_service.transcription.engines import SAMPLE_RATE
from tests.factories.recordings import DATA
from tests.factories.transcription import script_lines, script_wer


def test_prepared_calls_carry_the_pipelines_windows_to_16_bit_precision(tmp_path: Path) -> None:
    prepare(tmp_path / "calls.npz", [1, 2])

    calls = load_calls(tmp_path / "calls.npz")

    assert [call.name for call in calls] == [
        f"{stem}_x{length}"
        for stem in ("call_en_stereo", "call_card_en_stereo", "call_fi_stereo", "call_mono")
        for length in (1, 2)
    ]
    english = calls[0]
    assert (english.language, english.script, len(english.channels)) == ("en", "tests/data/call_en_stereo.txt", 2)
    assert calls[1].script is None  # only a fixture played once has a script to score against
    expected = channel_windows(DATA / "call_en_stereo.wav", 2)
    for channel, windows in zip(english.channels, expected, strict=True):
        assert [offset for offset, _ in windows] == [offset for offset, _ in channel]
        for (_, sent), (_, decoded) in zip(windows, channel, strict=True):
            assert sent.dtype == np.float32
            assert np.max(np.abs(sent - np.asarray(decoded))) <= 1 / 32767
    assert sum(len(audio) for _, audio in english.channels[0]) / SAMPLE_RATE == english.duration_s


def test_scores_the_segments_a_device_sent_back_as_a_transcript_draft() -> None:
    script = DATA / "call_en_stereo.txt"
    spoken = [{"text": text} for *_, text in script_lines(script)]
    assert script_wer(ScoredDraft(segments=spoken), script) == 0.0  # type: ignore[arg-type]
    assert script_wer(ScoredDraft(segments=[{"text": "nothing alike"}]), script) > 0.9  # type: ignore[arg-type]
