"""Plain WAV files, PCM or G.711 in the canonical layout telephony systems write: the probe's answer from the
header alone.

For such a file the FFmpeg probe only counts the data chunk's bytes (`probe_worker._demuxed_duration`), and
forking a child to do it was most of what probing an upload cost. The audio worker answers these itself: the
parse below reads a few chunk headers with `os.pread`, in pure Python (no FFmpeg code sees the file), keeps no
state between files, and leaves every layout it does not know exactly (another chunk, a data chunk that is not
the file's last or does not fit in it, a format whose sizes disagree, a file the probe would refuse) to the
FFmpeg probe in a child. What it answers is what that probe answers; `tests/audio/test_plain_wav.py` compares
the two over a corpus of layouts.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from typing import Any

from recordings_service.audio.probe_worker import MAX_CHANNELS, MAX_SAMPLE_RATE

# (WAVE format tag, bits per sample) -> FFmpeg's codec name; 1 PCM, 3 IEEE float, 6 A-law, 7 µ-law.
CODECS = {
    (1, 8): "pcm_u8",
    (1, 16): "pcm_s16le",
    (1, 24): "pcm_s24le",
    (1, 32): "pcm_s32le",
    (3, 32): "pcm_f32le",
    (6, 8): "pcm_alaw",
    (7, 8): "pcm_mulaw",
}
# Chunks that may come before the data: FFmpeg reads nothing from them that changes a PCM file's answer.
HEADER_CHUNKS = frozenset({b"fmt ", b"fact", b"LIST", b"JUNK"})
MAX_HEADER_CHUNKS = 8
FMT_LENGTHS = (16, 18)  # WAVEFORMAT with or without an empty cbSize
_FMT = struct.Struct("<HHIIHH")


def plain_wav_info(fd: int, *, max_duration_s: float) -> dict[str, Any] | None:
    """The probe's answer for a plain WAV the probe accepts, read at the file's offsets (its position untouched);
    None for anything else."""
    riff = os.pread(fd, 12, 0)
    if riff[:4] != b"RIFF" or riff[8:12] != b"WAVE":
        return None
    found: dict[str, Any] | None = None
    for tag, length, position in _header_chunks(fd):
        if tag == b"data":
            after_data = os.fstat(fd).st_size - (position + 8 + length)
            return _answer(found, data_bytes=length, after_data=after_data, limit_s=max_duration_s)
        # FFmpeg skips a header chunk's pad byte only sometimes; odd sizes are left to it.
        if tag not in HEADER_CHUNKS or length % 2 or length < 4:
            return None
        if tag == b"fmt ":
            # Its length checked before it is read (a claim of gigabytes would be allocated whole); a second: not plain.
            found = _format(os.pread(fd, length, position + 8)) if found is None and length in FMT_LENGTHS else None
            if found is None:
                return None
    return None


def _header_chunks(fd: int) -> Iterator[tuple[bytes, int, int]]:
    """Tag, length and offset of the chunks after the RIFF header, up to `MAX_HEADER_CHUNKS` or the file's end."""
    position = 12
    for _ in range(MAX_HEADER_CHUNKS):
        header = os.pread(fd, 8, position)
        if len(header) < 8:
            return
        length = int.from_bytes(header[4:], "little")
        yield header[:4], length, position
        position += 8 + length


def _format(body: bytes) -> dict[str, Any] | None:
    if len(body) not in FMT_LENGTHS or body[16:18] not in (b"", b"\0\0"):  # no extension (cbSize 0)
        return None
    tag, channels, rate, byte_rate, block_align, bits = _FMT.unpack_from(body)
    codec = CODECS.get((tag, bits))
    if codec is None or not 1 <= channels <= MAX_CHANNELS or not 0 < rate <= MAX_SAMPLE_RATE:
        return None
    if block_align != channels * bits // 8 or byte_rate != rate * block_align:
        return None
    return {"container": "wav", "codec": codec, "sample_rate": rate, "channels": channels, "block_align": block_align}


def _answer(found: dict[str, Any] | None, *, data_bytes: int, after_data: int, limit_s: float) -> dict[str, Any] | None:
    # The data ends the file (with its pad byte when odd): nothing after it for FFmpeg to read, nothing cut off.
    if found is None or after_data not in (0, data_bytes % 2):
        return None
    block_align, rate = found.pop("block_align"), found["sample_rate"]
    if data_bytes / (rate * block_align) > limit_s:
        return None  # refused, with the probe's own words
    duration_s = round(data_bytes // block_align / rate, 6)
    return {**found, "duration_s": duration_s} if duration_s > 0 else None
