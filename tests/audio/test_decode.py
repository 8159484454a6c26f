"""decoded_pcm: every accepted format decodes in the confined worker, streamed and capped in size.

Also the file whose header understates its length (an MP3 without a Xing header whose frames run on
past the limit): the probe's while-decoding cap refuses it, and so does the decoder's output cap.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from recordings_service.audio.decode import CHUNK_FRAMES, decoded_pcm
from recordings_service.audio.probe import UnsupportedAudio, probe_audio
from recordings_service.config import Settings
from tests.audio.fixture_files import FIXTURES

DATA = Path(__file__).parents[1] / "data"
FFMPEG = Settings().ffmpeg_path()


def ffmpeg(*args: str) -> None:
    """Runs the test's own ffmpeg, unconfined: it makes inputs, it is not under test."""
    subprocess.run([FFMPEG, "-nostdin", "-v", "error", *args], check=True, timeout=120)


@pytest.mark.parametrize(("name", "container", "codec", "rate", "channels", "duration"), FIXTURES)
def test_every_accepted_format_decodes_to_its_duration(
    name: str, container: str, codec: str, rate: int, channels: int, duration: float
) -> None:
    blocks = list(decoded_pcm(DATA / name, duration_s=duration, rate=16000, channels=1))

    assert all(block.dtype == np.float32 and block.shape[1] == 1 for block in blocks)
    assert max(len(block) for block in blocks) <= CHUNK_FRAMES
    audio = np.concatenate(blocks)[:, 0]
    # AAC and MP3 carry encoder delay and padding: a few hundredths of a second either way.
    assert len(audio) / 16000 == pytest.approx(duration, abs=0.06)
    assert 0.05 < float(np.abs(audio).max()) <= 1.0


def decode_all(path: Path, *, channels: int, channel: int | None = None) -> np.ndarray:
    return np.concatenate(list(decoded_pcm(path, duration_s=23.68, rate=8000, channels=channels, channel=channel)))


def test_a_picked_channel_is_that_channel_alone() -> None:
    # The stereo call has each turn on its speaker's channel only: the two picks differ.
    left = decode_all(DATA / "call_en_stereo.wav", channels=1, channel=0)
    right = decode_all(DATA / "call_en_stereo.wav", channels=1, channel=1)
    both = decode_all(DATA / "call_en_stereo.wav", channels=2)

    assert len(left) == len(right) == len(both)
    np.testing.assert_allclose(left[:, 0], both[:, 0], atol=1e-6)
    np.testing.assert_allclose(right[:, 0], both[:, 1], atol=1e-6)
    assert not np.allclose(left, right, atol=0.01)


def test_audio_decoding_to_more_than_its_probed_duration_is_refused() -> None:
    # 23.68 s of audio against a probed 5 s: the cap is 5 s + 1 s of overrun, set before decoding.
    with pytest.raises(UnsupportedAudio, match="decodes to more than its probed duration"):
        for _ in decoded_pcm(DATA / "call_en_stereo.wav", duration_s=5.0, rate=8000, channels=2):
            pass


def test_a_reader_that_stops_early_stops_the_worker() -> None:
    blocks = decoded_pcm(DATA / "call_en_stereo.wav", duration_s=23.68, rate=8000, channels=1)
    next(blocks)
    blocks.close()  # no error, no worker left behind: the generator's cleanup kills and reaps it


def test_a_file_that_is_not_accepted_audio_is_refused_by_the_decoder(tmp_path: Path) -> None:
    path = tmp_path / "call.mka"
    ffmpeg("-f", "lavfi", "-i", "sine=d=1", "-c:a", "pcm_s16le", "-f", "matroska", str(path))
    with pytest.raises(UnsupportedAudio):
        list(decoded_pcm(path, duration_s=1.0, rate=8000, channels=1))


@pytest.fixture
def mp3_understating_its_length(tmp_path: Path) -> Path:
    """1 s at 320 kb/s, then 30 s at 32 kb/s, no Xing header: FFmpeg estimates ~4.7 s from the first
    frame's bitrate and the file size, while the frames run on for 31 s."""
    loud, long = tmp_path / "loud.mp3", tmp_path / "long.mp3"
    for path, seconds, bitrate in ((loud, 1, "320k"), (long, 30, "32k")):
        ffmpeg(
            "-f", "lavfi", "-i", f"sine=f=440:d={seconds}:r=48000",
            "-c:a", "libmp3lame", "-b:a", bitrate, "-write_xing", "0", "-id3v2_version", "0", "-y", str(path),
        )  # fmt: skip
    joined = tmp_path / "understated.mp3"
    joined.write_bytes(loud.read_bytes() + long.read_bytes())
    return joined


def test_an_mp3_whose_header_understates_its_length_is_refused_while_decoding(
    mp3_understating_its_length: Path,
) -> None:
    import av

    with av.open(str(mp3_understating_its_length)) as container:
        assert container.duration is not None and container.duration / 1e6 < 10  # the header passes the limit

    with pytest.raises(UnsupportedAudio, match="duration exceeds the limit of 10 s"):
        probe_audio(mp3_understating_its_length, max_duration_s=10)


def test_an_mp3_whose_header_understates_its_length_cannot_decode_past_its_cap(
    mp3_understating_its_length: Path,
) -> None:
    # Say it was stored as a 4.7 s call: the decoder stops at 4.7 s plus overrun, not at 31 s.
    decoded = 0
    with pytest.raises(UnsupportedAudio, match="decodes to more than its probed duration"):
        for block in decoded_pcm(mp3_understating_its_length, duration_s=4.7, rate=16000, channels=1):
            decoded += len(block)
    assert decoded <= (4.7 + 1.0) * 16000
