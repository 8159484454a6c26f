"""A compressed call with a damaged packet (a bit error in transfer) is taken in, decoded and muted without that
packet, as FFmpeg's own command plays it; one damaged throughout is still refused for falling short of its header."""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import numpy as np
import pytest

from recordings_service.audio.decode import decoded_pcm
from recordings_service.audio.edit import mute_spans
from recordings_service.audio.probe import UnsupportedAudio, probe_audio
from recordings_service.config import Settings

DATA = Path(__file__).parents[1] / "data"
FFMPEG = Settings().ffmpeg_path()
SIX_HOURS = 6 * 3600.0
ENCODINGS = [("call.mp3", "libmp3lame"), ("call.m4a", "aac")]


def encoded(tmp_path: Path, name: str, encoder: str) -> Path:
    """The English stereo call in a lossy codec, made by the test's own ffmpeg (not under test)."""
    path = tmp_path / name
    source = str(DATA / "call_en_stereo.wav")
    command = [FFMPEG, "-nostdin", "-v", "error", "-i", source, "-c:a", encoder, "-b:a", "32k", str(path)]
    subprocess.run(command, check=True, timeout=120)
    return path


def damaged(path: Path, every: int) -> Path:
    """A copy whose packets' payloads are overwritten, one packet in `every` from the middle on (the first bytes
    kept, so that the container still finds each packet)."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        packets = [
            (packet.pos, packet.size) for packet in container.demux(stream) if packet.size and packet.pos is not None
        ]
    data = bytearray(path.read_bytes())
    for pos, size in packets[len(packets) // 2 :: every]:
        for at in range(pos + 6, pos + size):
            data[at] = 0xFF ^ (at & 0x5A)
    copy = path.with_name(f"damaged-{path.name}")
    copy.write_bytes(bytes(data))
    return copy


def refused_packets(path: Path) -> int:
    """How many packets PyAV's decoder refuses as invalid data: what makes the file damaged, not merely different."""
    refusals = 0
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        for packet in container.demux(stream):
            try:
                stream.codec_context.decode(packet)
            except av.InvalidDataError:
                refusals += 1
    return refusals


@pytest.mark.parametrize(("name", "encoder"), ENCODINGS)
def test_one_damaged_packet_leaves_the_call_whole_but_for_that_packet(tmp_path: Path, name: str, encoder: str) -> None:
    intact = encoded(tmp_path, name, encoder)
    broken = damaged(intact, every=10**6)
    assert refused_packets(broken) == 1

    full = probe_audio(intact, max_duration_s=SIX_HOURS).duration_s
    info = probe_audio(broken, max_duration_s=SIX_HOURS)
    # One packet of 8 kHz AAC is 0.128 s, of MP3 0.072 s: that much is missing, no more.
    assert full - 0.2 < info.duration_s < full

    audio = np.concatenate(list(decoded_pcm(broken, duration_s=info.duration_s, rate=16000, channels=1)))
    assert len(audio) / 16000 == pytest.approx(info.duration_s, abs=0.06)

    muted = tmp_path / f"muted-{name}"
    mute_spans(broken, muted, spans=[(15.0, 16.0)], ffmpeg=FFMPEG)
    assert probe_audio(muted, max_duration_s=SIX_HOURS).duration_s == pytest.approx(info.duration_s, abs=0.1)


@pytest.mark.parametrize(("name", "encoder"), ENCODINGS)
def test_a_call_damaged_throughout_is_refused_for_what_cannot_be_decoded(
    tmp_path: Path, name: str, encoder: str
) -> None:
    broken = damaged(encoded(tmp_path, name, encoder), every=2)
    assert refused_packets(broken) > 10

    with pytest.raises(UnsupportedAudio) as caught:
        probe_audio(broken, max_duration_s=SIX_HOURS)
    assert "can be decoded" in caught.value.message
