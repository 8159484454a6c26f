"""mute_spans and cut_clip with the real ffmpeg: silent (or toned) inside the spans, sample-exact outside."""

from __future__ import annotations

import math
import subprocess
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from recordings_service.audio.edit import cut_clip, mute_spans
from recordings_service.audio.probe import probe_audio
from recordings_service.config import Settings
from recordings_service.errors import Invalid

DATA = Path(__file__).parents[1] / "data"
FFMPEG = Settings().ffmpeg_path()
RATE = 8000
SECONDS = 3.0
SPANS = [(1.0, 1.5), (2.2, 2.4)]

Samples = npt.NDArray[np.int32]


def ffmpeg(*args: str, stdin: bytes | None = None) -> bytes:
    """Runs the test's own ffmpeg (independent of the module under test) and returns its stdout."""
    command = [FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", *args]
    return subprocess.run(command, input=stdin, capture_output=True, check=True).stdout


def decode(path: Path, channels: int) -> Samples:
    """The file's samples as (frames, channels) integers on a signed 32-bit scale, at its own rate."""
    raw = ffmpeg("-i", str(path), "-map", "0:a:0", "-f", "s32le", "-c:a", "pcm_s32le", "pipe:1")
    return np.frombuffer(raw, dtype="<i4").astype(np.int32).reshape(-1, channels)


def rms_dbfs(samples: Samples, start: int, end: int) -> list[float]:
    """RMS level in dBFS of frames [start, end) on each channel (-inf for digital silence)."""
    part = samples[start:end].astype(np.float64) / 2**31
    levels = np.sqrt(np.mean(part**2, axis=0))
    return [20 * math.log10(level) if level > 0 else -math.inf for level in levels]


def outside(samples: Samples, ranges: list[tuple[int, int]]) -> Samples:
    """The frames not in any of `ranges`."""
    keep = np.ones(samples.shape[0], dtype=bool)
    for start, end in ranges:
        keep[start:end] = False
    return samples[keep]


def frames(spans: list[tuple[float, float]], rate: int = RATE) -> list[tuple[int, int]]:
    return [(math.floor(start * rate), math.ceil(end * rate)) for start, end in spans]


def stereo_call(tmp_path: Path, codec: str) -> Path:
    """3 s of 8 kHz stereo: a 440 Hz tone on the left, seeded noise on the right, in a WAV of `codec`."""
    n = int(SECONDS * RATE)
    t = np.arange(n) / RATE
    left = 0.3 * np.sin(2 * np.pi * 440 * t)
    right = np.random.default_rng(7).uniform(-0.2, 0.2, n)
    pcm = (np.stack([left, right], axis=1) * 32767).round().astype("<i2")
    s16 = tmp_path / "call_s16.wav"
    with wave.open(str(s16), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(pcm.tobytes())
    if codec == "pcm_s16le":
        return s16
    path = tmp_path / f"call_{codec}.wav"
    ffmpeg("-i", str(s16), "-c:a", codec, "-y", str(path))
    return path


def assert_same_format(source: Path, edited: Path) -> None:
    before, after = probe_audio(source, max_duration_s=3600), probe_audio(edited, max_duration_s=3600)
    assert (after.container, after.codec, after.sample_rate, after.channels) == (
        before.container,
        before.codec,
        before.sample_rate,
        before.channels,
    )
    assert after.duration_s == pytest.approx(before.duration_s, abs=0.05)


@pytest.mark.parametrize("codec", ["pcm_mulaw", "pcm_s16le"])
def test_spans_are_silent_on_every_channel_and_the_rest_is_sample_exact(tmp_path: Path, codec: str) -> None:
    source = stereo_call(tmp_path, codec)
    muted = tmp_path / "muted.wav"
    mute_spans(source, muted, spans=SPANS, ffmpeg=FFMPEG)

    before, after = decode(source, 2), decode(muted, 2)
    assert after.shape == before.shape == (int(SECONDS * RATE), 2)
    for start, end in frames(SPANS):
        assert max(rms_dbfs(before, start, end)) > -20  # there was sound to mute
        assert max(rms_dbfs(after, start, end)) < -60
    assert np.array_equal(outside(after, frames(SPANS)), outside(before, frames(SPANS)))
    assert_same_format(source, muted)


def test_a_tone_replaces_the_spans_at_about_minus_20_dbfs(tmp_path: Path) -> None:
    source = stereo_call(tmp_path, "pcm_mulaw")
    toned = tmp_path / "toned.wav"
    mute_spans(source, toned, spans=SPANS, ffmpeg=FFMPEG, tone_hz=1000.0)

    before, after = decode(source, 2), decode(toned, 2)
    assert after.shape == before.shape
    for start, end in frames(SPANS):
        assert rms_dbfs(after, start, end) == pytest.approx([-20.0, -20.0], abs=1.0)
        for channel in range(2):
            spectrum = np.abs(np.fft.rfft(after[start:end, channel].astype(np.float64)))
            peak_hz = np.argmax(spectrum) * RATE / (end - start)
            assert peak_hz == pytest.approx(1000.0, abs=20.0)
    assert np.array_equal(outside(after, frames(SPANS)), outside(before, frames(SPANS)))
    assert_same_format(source, toned)


def test_overlapping_and_out_of_range_spans_are_merged_and_clamped(tmp_path: Path) -> None:
    source = stereo_call(tmp_path, "pcm_mulaw")
    muted = tmp_path / "muted.wav"
    spans = [(-1.0, 0.3), (0.2, 0.5), (1.00006, 1.20001), (1.1, 1.15), (2.5, 10.0)]
    mute_spans(source, muted, spans=spans, ffmpeg=FFMPEG)

    before, after = decode(source, 2), decode(muted, 2)
    expected = before.copy()
    # floor(start * rate) .. ceil(end * rate), clamped to the file: 1.00006 s -> 8000, 1.20001 s -> 9601.
    for start, end in [(0, 4000), (8000, 9601), (20000, before.shape[0])]:
        expected[start:end] = 0
    assert np.array_equal(after, expected)


def test_no_spans_copies_the_audio_unchanged(tmp_path: Path) -> None:
    source = stereo_call(tmp_path, "pcm_mulaw")
    copied = tmp_path / "copied.wav"
    mute_spans(source, copied, spans=[], ffmpeg=FFMPEG)
    assert np.array_equal(decode(copied, 2), decode(source, 2))
    assert_same_format(source, copied)
    # Spans wholly past the end mute nothing either.
    mute_spans(source, copied, spans=[(5.0, 6.0)], ffmpeg=FFMPEG)
    assert np.array_equal(decode(copied, 2), decode(source, 2))


@pytest.mark.parametrize(
    "name",
    [
        "codec_pcm8.wav",
        "codec_pcm24.wav",
        "codec_pcm32.wav",
        "codec_alaw.wav",
        "codec_mulaw.au",
        "codec_pcm16.aiff",
        "codec_stereo.flac",
    ],
)
def test_every_lossless_format_is_muted_sample_exact(tmp_path: Path, name: str) -> None:
    source = DATA / name
    info = probe_audio(source, max_duration_s=3600)
    muted = tmp_path / f"muted{source.suffix}"
    mute_spans(source, muted, spans=[(0.5, 1.0)], ffmpeg=FFMPEG)

    before, after = decode(source, info.channels), decode(muted, info.channels)
    span = frames([(0.5, 1.0)], info.sample_rate)
    assert after.shape == before.shape
    assert max(rms_dbfs(after, *span[0])) < -60
    assert np.array_equal(outside(after, span), outside(before, span))
    assert_same_format(source, muted)


@pytest.mark.parametrize("name", ["codec.mp3", "codec_opus.ogg", "codec_vorbis.ogg", "codec_aac.m4a"])
def test_lossy_formats_keep_their_codec_and_are_quiet_in_the_span(tmp_path: Path, name: str) -> None:
    source = DATA / name
    info = probe_audio(source, max_duration_s=3600)
    muted = tmp_path / f"muted{source.suffix}"
    mute_spans(source, muted, spans=[(0.5, 1.0)], ffmpeg=FFMPEG)

    after = decode(muted, info.channels)
    # The codec smears a little across the edges; the span's interior is silent.
    assert max(rms_dbfs(after, *frames([(0.55, 0.95)], info.sample_rate)[0])) < -50
    assert_same_format(source, muted)


def test_an_unsupported_codec_is_refused(tmp_path: Path) -> None:
    with pytest.raises(Invalid) as refused:
        mute_spans(DATA / "codec_gsm.wav", tmp_path / "muted.wav", spans=[(0.5, 1.0)], ffmpeg=FFMPEG)
    assert refused.value.field == "audio"
    assert "gsm_ms" in refused.value.message
    assert not (tmp_path / "muted.wav").exists()


def test_a_codec_no_encoder_writes_is_copied_when_there_is_nothing_to_mute(tmp_path: Path) -> None:
    """Found by the odd-audio pass: a GSM call (accepted, transcribed, drawn) had its redacted audio refused even with
    no span to mute, so trainers could never hear it."""
    mute_spans(DATA / "codec_gsm.wav", tmp_path / "copy.wav", spans=[], ffmpeg=FFMPEG)
    assert (tmp_path / "copy.wav").read_bytes() != b""
    assert_same_format(DATA / "codec_gsm.wav", tmp_path / "copy.wav")


def test_a_malformed_span_is_refused(tmp_path: Path) -> None:
    source = stereo_call(tmp_path, "pcm_s16le")
    for bad in [(1.5, 1.0), (math.nan, 1.0)]:
        with pytest.raises(Invalid) as refused:
            mute_spans(source, tmp_path / "muted.wav", spans=[bad], ffmpeg=FFMPEG)
        assert refused.value.field == "spans"


@pytest.mark.parametrize(("codec", "suffix"), [("opus", ".ogg"), ("mp3", ".mp3")])
def test_a_clip_has_the_spans_duration_and_the_sources_channels(tmp_path: Path, codec: str, suffix: str) -> None:
    source = stereo_call(tmp_path, "pcm_mulaw")
    clip = tmp_path / f"clip{suffix}"
    cut_clip(source, clip, start_s=0.7, end_s=2.3, ffmpeg=FFMPEG, codec=codec)  # type: ignore[arg-type]

    info = probe_audio(clip, max_duration_s=3600)
    assert info.codec == codec
    assert info.channels == 2
    assert info.duration_s == pytest.approx(1.6, abs=0.1)
    if codec == "opus":
        assert info.sample_rate == 48000  # an 8 kHz source is upsampled as Opus requires


def test_a_clip_to_the_very_end_is_allowed(tmp_path: Path) -> None:
    source = stereo_call(tmp_path, "pcm_s16le")
    clip = tmp_path / "clip.ogg"
    cut_clip(source, clip, start_s=2.0, end_s=SECONDS, ffmpeg=FFMPEG)
    assert probe_audio(clip, max_duration_s=3600).duration_s == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize(
    ("start_s", "end_s", "field"),
    [(-0.5, 1.0, "start_s"), (2.0, 2.0, "end_s"), (2.0, 1.0, "end_s"), (0.0, 3.5, "end_s"), (3.2, 3.4, "start_s")],
)
def test_a_clip_outside_the_audio_is_refused(tmp_path: Path, start_s: float, end_s: float, field: str) -> None:
    source = stereo_call(tmp_path, "pcm_s16le")
    clip = tmp_path / "clip.ogg"
    with pytest.raises(Invalid) as refused:
        cut_clip(source, clip, start_s=start_s, end_s=end_s, ffmpeg=FFMPEG)
    assert refused.value.field == field
    assert not clip.exists()
