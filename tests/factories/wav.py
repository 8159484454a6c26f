"""WAV files built chunk by chunk, for tests of what probing accepts and refuses (hostile headers included)."""

from __future__ import annotations

import struct

MAX_CHUNK = 0xFFFFFFFF


def fmt(tag: int = 7, channels: int = 1, rate: int = 8000, bits: int = 8, **wrong: int) -> bytes:
    """A `fmt ` chunk's body (WAVEFORMAT); `block_align=` or `byte_rate=` make its sizes disagree."""
    block = wrong.get("block_align", channels * bits // 8)
    byte_rate = wrong.get("byte_rate", rate * block)
    return struct.pack("<HHIIHH", tag, channels, rate, byte_rate, block, bits)


def chunk(tag: bytes, body: bytes, *, size: int | None = None, pad: bool = True) -> bytes:
    """A RIFF chunk of `body`, claiming `size` bytes when given; an odd body gets its pad byte unless not `pad`."""
    length = len(body) if size is None else size
    return tag + struct.pack("<I", length) + body + (b"\0" if pad and len(body) % 2 else b"")


def wav(*chunks: bytes, magic: bytes = b"RIFF", riff_size: int | None = None) -> bytes:
    body = b"WAVE" + b"".join(chunks)
    return magic + struct.pack("<I", len(body) if riff_size is None else riff_size) + body


def wav_header(
    data_bytes: int, *, rate: int = 8000, channels: int = 1, bits: int = 16, tag: int = 1, before_data: bytes = b""
) -> bytes:
    """A RIFF/WAVE header declaring `data_bytes` of sample data, none of it written (`before_data` inserted): a
    canonical 44-byte one without it. Hostile files add less, or garbage."""
    head = chunk(b"fmt ", fmt(tag, channels, rate, bits)) + before_data
    riff_size = min(4 + len(head) + 8 + data_bytes, MAX_CHUNK)
    return wav(head, chunk(b"data", b"", size=min(data_bytes, MAX_CHUNK)), riff_size=riff_size)
