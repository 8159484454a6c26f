"""Cutting and muting audio files with ffmpeg: paths and streams in, paths out; never Recording rows."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from recordings_service.audio.decode import pcm_blocks
from recordings_service.audio.ffmpeg import DESTINATION, SOURCE, FileInfo, describe, finish, start_ffmpeg
from recordings_service.audio.formats import FORMATS
from recordings_service.errors import Invalid

# A replacement tone's RMS level relative to full scale.
TONE_DBFS = -20.0
# ffmpeg prints the container's duration in centiseconds.
_DURATION_SLACK_S = 0.01


@dataclass(frozen=True)
class _Raw:
    """A raw PCM interchange format: ffmpeg's name for it, its numpy dtype and its full-scale value."""

    ffmpeg: str
    dtype: str
    full_scale: float


_S16 = _Raw("s16le", "<i2", 32767.0)
_S32 = _Raw("s32le", "<i4", 2147483647.0)
_F32 = _Raw("f32le", "<f4", 1.0)


@dataclass(frozen=True)
class _Codec:
    """How one source codec is decoded for muting and encoded again (`exact`: bit for bit outside the spans)."""

    raw: _Raw
    encoder: tuple[str, ...]
    exact: bool
    default_bitrate: str | None = None


# Source codec (ffmpeg's name) -> the raw format it is muted in and the encoder arguments that restore it.
_CODECS: dict[str, _Codec] = {
    "pcm_u8": _Codec(_S16, ("-c:a", "pcm_u8"), exact=True),
    "pcm_s16le": _Codec(_S16, ("-c:a", "pcm_s16le"), exact=True),
    "pcm_s16be": _Codec(_S16, ("-c:a", "pcm_s16be"), exact=True),
    "pcm_s24le": _Codec(_S32, ("-c:a", "pcm_s24le"), exact=True),
    "pcm_s32le": _Codec(_S32, ("-c:a", "pcm_s32le"), exact=True),
    "pcm_f32le": _Codec(_F32, ("-c:a", "pcm_f32le"), exact=True),
    "pcm_mulaw": _Codec(_S16, ("-c:a", "pcm_mulaw"), exact=True),
    "pcm_alaw": _Codec(_S16, ("-c:a", "pcm_alaw"), exact=True),
    "flac": _Codec(_S16, ("-c:a", "flac"), exact=True),
    "adpcm_ima_wav": _Codec(_S16, ("-c:a", "adpcm_ima_wav"), exact=False),
    "mp3": _Codec(_F32, ("-c:a", "libmp3lame"), exact=False, default_bitrate="64k"),
    "opus": _Codec(_F32, ("-c:a", "libopus"), exact=False, default_bitrate="32k"),
    "vorbis": _Codec(_F32, ("-c:a", "libvorbis"), exact=False, default_bitrate="64k"),
    "aac": _Codec(_F32, ("-c:a", "aac"), exact=False, default_bitrate="64k"),
}

# Clip encoders: codec -> muxer and encoder arguments.
_CLIP_ENCODERS: dict[str, tuple[str, ...]] = {
    "opus": ("-c:a", "libopus", "-b:a", "32k", "-ar", "48000", "-f", "ogg"),
    "mp3": ("-c:a", "libmp3lame", "-q:a", "4", "-f", "mp3"),
}
_MP3_RATES = frozenset({8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000})
_DETERMINISTIC = ("-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact")


def mute_spans(
    source: Path,
    destination: Path,
    *,
    spans: Sequence[tuple[float, float]],
    ffmpeg: str,
    tone_hz: float | None = None,
) -> None:
    """Writes `source` to `destination` in the same container and codec, every channel muted (or toned) over `spans`."""
    _distinct(source, destination)
    found = describe(source, ffmpeg=ffmpeg)
    muxer = _muxer(found)
    if tone_hz is not None and not (math.isfinite(tone_hz) and 0 < tone_hz < found.sample_rate / 2):
        raise Invalid("tone_hz", f"the tone must lie between 0 and {found.sample_rate / 2:g} Hz")
    ranges = _sample_ranges(spans, found.sample_rate)
    try:
        if not ranges:
            _copy_stream(source, destination, ffmpeg=ffmpeg, muxer=muxer)
        else:
            _rewrite(
                source,
                destination,
                ffmpeg=ffmpeg,
                found=found,
                # Only a rewrite needs an encoder: a call in a codec none can write, with nothing to mute, is copied.
                codec=_codec(found),
                muxer=muxer,
                ranges=ranges,
                tone_hz=tone_hz,
            )
    except BaseException:
        destination.unlink(missing_ok=True)
        raise


def cut_clip(
    source: Path,
    destination: Path,
    *,
    start_s: float,
    end_s: float,
    ffmpeg: str,
    codec: Literal["opus", "mp3"] = "opus",
) -> None:
    """Writes `source` from `start_s` to `end_s` to `destination` as Ogg/Opus or MP3."""
    _distinct(source, destination)
    if codec not in _CLIP_ENCODERS:
        raise Invalid("codec", "a clip is encoded as opus or mp3")
    if not math.isfinite(start_s) or start_s < 0:
        raise Invalid("start_s", "the clip must start at or after 0 s")
    if not math.isfinite(end_s) or end_s <= start_s:
        raise Invalid("end_s", "the clip must end after it starts")
    found = describe(source, ffmpeg=ffmpeg)
    duration = (
        found.duration_s if found.duration_s is not None else _decoded_duration(source, ffmpeg=ffmpeg, found=found)
    )
    if start_s >= duration:
        raise Invalid("start_s", f"the clip must start before the end of the audio ({duration:.2f} s)")
    if end_s > duration + _DURATION_SLACK_S:
        raise Invalid("end_s", f"the clip must end by the end of the audio ({duration:.2f} s)")
    output = list(_CLIP_ENCODERS[codec])
    output += ["-ac", str(min(found.channels, 2))]
    if codec == "mp3" and found.sample_rate not in _MP3_RATES:
        output += ["-ar", "48000"]
    args = ["-ss", f"{start_s:.6f}", "-t", f"{end_s - start_s:.6f}", SOURCE, "-map", "0:a:0"]
    args += [*_DETERMINISTIC, *output, DESTINATION]
    try:
        finish(start_ffmpeg(ffmpeg, args, source=source, destination=destination), what="encode the clip")
    except BaseException:
        destination.unlink(missing_ok=True)
        raise


def _distinct(source: Path, destination: Path) -> None:
    if destination.resolve() == source.resolve():
        raise ValueError("destination must differ from source: ffmpeg cannot edit a file in place")


def _sample_ranges(spans: Sequence[tuple[float, float]], rate: int) -> list[tuple[int, int]]:
    """The spans as sorted, merged [start, end) frame ranges: floor(start * rate) to ceil(end * rate), from 0."""
    ranges: list[tuple[int, int]] = []
    for start_s, end_s in spans:
        if not (math.isfinite(start_s) and math.isfinite(end_s)) or end_s < start_s:
            raise Invalid("spans", "each span is (start, end) in seconds with start <= end")
        start, end = max(0, math.floor(start_s * rate)), math.ceil(end_s * rate)
        if end > start:
            ranges.append((start, end))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _rewrite(
    source: Path,
    destination: Path,
    *,
    ffmpeg: str,
    found: FileInfo,
    codec: _Codec,
    muxer: str,
    ranges: list[tuple[int, int]],
    tone_hz: float | None,
) -> None:
    """Decodes to raw PCM, mutes the ranges chunk by chunk and encodes the same codec, rate and channels."""
    raw = _S32 if codec.raw is _S16 and found.sample_format.startswith("s32") else codec.raw
    decode_args = [SOURCE, "-map", "0:a:0", "-f", raw.ffmpeg, "-c:a", f"pcm_{raw.ffmpeg}", "pipe:1"]
    encode_args = ["-protocol_whitelist", "pipe", "-f", raw.ffmpeg, "-ar", str(found.sample_rate)]
    encode_args += ["-ac", str(found.channels), "-i", "pipe:0"]
    encode_args += [*_DETERMINISTIC, *codec.encoder, *_encoder_options(found, codec)]
    encode_args += ["-f", muxer, DESTINATION]
    decoder = start_ffmpeg(ffmpeg, decode_args, source=source, stdout=True)
    encoder = start_ffmpeg(ffmpeg, encode_args, destination=destination, stdin=True)
    assert decoder.popen.stdout is not None and encoder.popen.stdin is not None
    try:
        try:
            frame = 0
            for chunk in pcm_blocks(decoder.popen.stdout, dtype=raw.dtype, channels=found.channels):
                _mute(chunk, first_frame=frame, ranges=ranges, raw=raw, rate=found.sample_rate, tone_hz=tone_hz)
                encoder.popen.stdin.write(chunk.tobytes())
                frame += chunk.shape[0]
        finally:
            with contextlib.suppress(BrokenPipeError):
                encoder.popen.stdin.close()
    except BrokenPipeError:
        decoder.kill()  # the encoder stopped reading; its error is the one to report
        finish(encoder, what="encode the audio")
        raise RuntimeError("ffmpeg stopped reading the audio") from None
    except BaseException:
        decoder.kill()
        encoder.kill()
        raise
    finish(decoder, what="decode the audio", invalid=True)
    finish(encoder, what="encode the audio")


def _encoder_options(found: FileInfo, codec: _Codec) -> list[str]:
    """Encoder settings that keep the source's sample depth (FLAC) or bitrate (lossy codecs)."""
    if codec.encoder[-1] == "flac":
        return ["-sample_fmt", "s32", "-bits_per_raw_sample", "24"] if found.sample_format.startswith("s32") else []
    if codec.default_bitrate is None:
        return []
    return ["-b:a", f"{found.bitrate_kbps}k" if found.bitrate_kbps else codec.default_bitrate]


def _mute(
    chunk: npt.NDArray[np.generic],
    *,
    first_frame: int,
    ranges: list[tuple[int, int]],
    raw: _Raw,
    rate: int,
    tone_hz: float | None,
) -> None:
    """Silences (or tones) in place the part of each range that falls inside this chunk."""
    last_frame = first_frame + chunk.shape[0]
    amplitude = 10 ** (TONE_DBFS / 20) * math.sqrt(2) * raw.full_scale
    for start, end in ranges:
        lo, hi = max(start, first_frame), min(end, last_frame)
        if lo >= hi:
            continue
        if tone_hz is None:
            chunk[lo - first_frame : hi - first_frame, :] = 0
            continue
        t = np.arange(lo - start, hi - start, dtype=np.float64) / rate
        tone = amplitude * np.sin(2 * np.pi * tone_hz * t)
        if raw is not _F32:
            tone = np.round(tone)
        chunk[lo - first_frame : hi - first_frame, :] = tone.astype(raw.dtype)[:, None]


def _copy_stream(source: Path, destination: Path, *, ffmpeg: str, muxer: str) -> None:
    """Nothing to mute: the audio stream is copied as it is into a fresh file of the same container."""
    args = [SOURCE, "-map", "0:a:0", *_DETERMINISTIC, "-c:a", "copy", "-f", muxer, DESTINATION]
    finish(start_ffmpeg(ffmpeg, args, source=source, destination=destination), what="copy the audio")


def _decoded_duration(source: Path, *, ffmpeg: str, found: FileInfo) -> float:
    """The duration by decoding, for containers that do not state it."""
    args = [SOURCE, "-map", "0:a:0", "-f", "s16le", "-c:a", "pcm_s16le", "pipe:1"]
    decoder = start_ffmpeg(ffmpeg, args, source=source, stdout=True)
    assert decoder.popen.stdout is not None
    total = 0
    while data := decoder.popen.stdout.read(1 << 20):
        total += len(data)
    finish(decoder, what="decode the audio", invalid=True)
    return total / (2 * found.channels * found.sample_rate)


def _codec(found: FileInfo) -> _Codec:
    codec = _CODECS.get(found.codec)
    if codec is None:
        raise Invalid("audio", f"cannot edit {found.codec} audio", code="unsupported_audio")
    return codec


def _muxer(found: FileInfo) -> str:
    muxer = FORMATS[found.container].muxer if found.container in FORMATS else None
    if muxer is None:
        raise Invalid("audio", f"cannot edit audio in a {found.container} container", code="unsupported_audio")
    return muxer
