"""probe_audio: every accepted format is accepted with the right facts; hostile files are refused."""

from __future__ import annotations

import itertools
import os
import resource
import signal
import struct
import subprocess
import sys
import sysconfig
import time
import wave
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import av
import numpy as np
import pytest

from recordings_service.audio.probe import AudioInfo, UnsupportedAudio, probe_audio
from recordings_service.audio.workers import worker_pool
from recordings_service.config import Settings
from tests.audio.fixture_files import FIXTURES
from tests.factories.wav import chunk, fmt, wav, wav_header

DATA = Path(__file__).parents[1] / "data"
SIX_HOURS = 6 * 3600.0
DEFAULT_MEMORY = 512 * 1024**2  # probe_audio's default memory_limit_bytes
CPYTHON_AUDIODATA = Path(sysconfig.get_paths()["stdlib"]) / "test" / "audiodata"

# file, container, codec, sample rate, channels, duration (s)


# A chunk that the audio worker's own reading of plain WAV headers (`plain_wav`) leaves to the forked prober.
CUE_CHUNK = chunk(b"cue ", struct.pack("<I", 0))


def refused(
    path: Path, fragment: str, *, max_duration_s: float = SIX_HOURS, timeout_s: float = 20.0
) -> UnsupportedAudio:
    with pytest.raises(UnsupportedAudio) as caught:
        probe_audio(path, max_duration_s=max_duration_s, timeout_s=timeout_s)
    exc = caught.value
    assert exc.code == "unsupported_audio"
    assert exc.field == "audio"
    assert fragment in exc.message, exc.message
    assert str(path) not in exc.message
    return exc


@pytest.mark.parametrize(("name", "container", "codec", "rate", "channels", "duration"), FIXTURES)
def test_committed_fixture_is_accepted(
    name: str, container: str, codec: str, rate: int, channels: int, duration: float
) -> None:
    info = probe_audio(DATA / name, max_duration_s=SIX_HOURS)

    assert info == AudioInfo(
        container=container, codec=codec, sample_rate=rate, channels=channels, duration_s=info.duration_s
    )
    assert info.duration_s == pytest.approx(duration, abs=0.1)


@pytest.mark.parametrize("name", ["call_en_stereo", "call_fi_stereo", "call_mono"])
def test_call_script_matches_its_audio(name: str) -> None:
    turns = [line.split(" ", 2) for line in (DATA / f"{name}.txt").read_text(encoding="utf-8").splitlines()]
    info = probe_audio(DATA / f"{name}.wav", max_duration_s=SIX_HOURS)

    speakers = [rest.split(":", 1)[0] for _, _, rest in turns]
    assert speakers[0] == "agent"
    assert all(a != b for a, b in itertools.pairwise(speakers)), "turns alternate"
    times = [float(t) for start, end, _ in turns for t in (start, end)]
    assert times == sorted(times)
    assert times[-1] <= info.duration_s


@pytest.mark.parametrize("name", ["call_en_stereo", "call_fi_stereo"])
def test_stereo_call_has_each_turn_only_on_its_speakers_channel(name: str) -> None:
    with av.open(str(DATA / f"{name}.wav")) as container:
        pcm = np.concatenate([frame.to_ndarray() for frame in container.decode(audio=0)], axis=1)
    left, right = pcm.reshape(-1, 2).T.astype(np.float64)  # packed µ-law decodes interleaved
    for line in (DATA / f"{name}.txt").read_text(encoding="utf-8").splitlines():
        start, end, rest = line.split(" ", 2)
        span = slice(int(float(start) * 8000), int(float(end) * 8000))
        speaking, silent = (left, right) if rest.startswith("agent:") else (right, left)
        assert np.sqrt(np.mean(speaking[span] ** 2)) > 500
        assert not silent[span].any()


def test_one_hour_file_is_probed_in_seconds(tmp_path: Path) -> None:
    path = tmp_path / "hour.wav"
    with path.open("wb") as f:  # an hour of µ-law silence, sparse on disk
        f.write(wav_header(3600 * 8000, bits=8, tag=7))
        f.truncate(44 + 3600 * 8000)

    started = time.monotonic()
    info = probe_audio(path, max_duration_s=SIX_HOURS)

    assert info.codec == "pcm_mulaw"
    assert info.duration_s == 3600.0
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("tag", "bits", "codec"),
    [
        (1, 8, "pcm_u8"),
        (1, 16, "pcm_s16le"),
        (1, 24, "pcm_s24le"),
        (1, 32, "pcm_s32le"),
        (3, 32, "pcm_f32le"),
        (6, 8, "pcm_alaw"),
        (7, 8, "pcm_mulaw"),
    ],
)
def test_fixed_size_samples_last_what_decoding_them_gives(tmp_path: Path, tag: int, bits: int, codec: str) -> None:
    """The probe counts such files' bytes instead of decoding them; the count must agree with FFmpeg's decoder,
    a trailing part of a sample frame included (it decodes to nothing)."""
    path = tmp_path / "call.wav"
    data = np.random.default_rng(tag * bits).bytes(12_345 * 2 * bits // 8 + 1)  # random bytes: NaN floats too
    path.write_bytes(wav_header(len(data), rate=8000, channels=2, bits=bits, tag=tag) + data)
    with av.open(str(path)) as container:
        decoded = sum(frame.samples for frame in container.decode(audio=0))

    info = probe_audio(path, max_duration_s=SIX_HOURS)

    assert (info.codec, decoded) == (codec, 12_345)
    assert info.duration_s == pytest.approx(decoded / 8000, abs=1e-6)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.touch()
    refused(path, "empty file")


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    refused(tmp_path, "not a regular file")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.wav", b"Customer 4711 asked about the invoice. Secret: hunter2\n" * 20),
        ("page.wav", b"<!DOCTYPE html><html><head><title>Secret hunter2</title></head><body></body></html>"),
        ("image.wav", b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + bytes(17) + b"hunter2" * 10),
    ],
)
def test_not_audio_is_refused_without_quoting_it(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    exc = refused(path, "not an audio file")
    assert "hunter2" not in exc.message


def test_zip_renamed_wav(tmp_path: Path) -> None:
    path = tmp_path / "archive.wav"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("calls.csv", "id,number\n1,+358401234567\n")
    refused(path, "not an audio file")


def test_truncated_header(tmp_path: Path) -> None:
    path = tmp_path / "cut.wav"
    path.write_bytes((DATA / "codec_pcm16.wav").read_bytes()[:30])
    refused(path, "corrupt or truncated WAV header")


def test_first_100_bytes_of_a_call(tmp_path: Path) -> None:
    path = tmp_path / "cut.wav"
    path.write_bytes((DATA / "call_en_stereo.wav").read_bytes()[:100])
    refused(path, "header declares 23.7 s but only 0.0 s can be decoded")


def test_call_cut_in_half(tmp_path: Path) -> None:
    original = (DATA / "call_en_stereo.wav").read_bytes()
    path = tmp_path / "half.wav"
    path.write_bytes(original[: len(original) // 2])
    refused(path, "header declares 23.7 s but only 11.8 s can be decoded")


def test_mp3_cut_short_of_its_xing_header(tmp_path: Path) -> None:
    original = (DATA / "codec.mp3").read_bytes()
    path = tmp_path / "cut.mp3"
    path.write_bytes(original[: len(original) // 4])
    refused(path, "header declares 2.0 s but only")


def test_header_claiming_ten_hours_is_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "ten_hours.wav"
    path.write_bytes(wav_header(10 * 3600 * 16000) + bytes(16000))

    started = time.monotonic()
    refused(path, "duration 36000 s exceeds the limit of 21600 s")
    assert time.monotonic() - started < 5


def test_header_claiming_ten_hours_within_the_limit_is_refused_for_missing_audio(tmp_path: Path) -> None:
    path = tmp_path / "ten_hours.wav"
    path.write_bytes(wav_header(10 * 3600 * 16000) + bytes(16000))

    refused(path, "header declares 36000.0 s but only 1.0 s can be decoded", max_duration_s=11 * 3600)


def _sparse(path: Path, header: bytes) -> Path:
    with path.open("wb") as f:
        f.write(header)
        f.truncate(2 * 1024**3)
    return path


@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        pytest.param(wav_header(2 * 1024**3 - 44), "exceeds the limit of 21600 s", id="37 h of silence"),
        pytest.param(wav_header(0xFFFFFFFF), "exceeds the limit of 21600 s", id="streaming placeholder size"),
        pytest.param(wav_header(16000), "2048 MiB of data that is neither audio nor a WAV chunk", id="1 s then zeros"),
        pytest.param(b"", "not an audio file", id="zeros"),
    ],
)
def test_two_gigabyte_sparse_file(tmp_path: Path, header: bytes, fragment: str) -> None:
    path = _sparse(tmp_path / "big.wav", header)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    started = time.monotonic()
    refused(path, fragment, timeout_s=15)
    assert time.monotonic() - started < 15
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024  # KiB: the caller did not grow
    assert probe_child_peak_kib(path) < 512 * 1024


def probe_child_peak_kib(path: Path) -> int:
    """The probe child's peak RSS, measured from a fresh process whose only child is that probe.

    This test process's own RUSAGE_CHILDREN also counts every server other tests started, and a
    probe worker only counts there once it has been stopped and reaped.
    """
    script = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "from recordings_service.audio.probe import UnsupportedAudio, probe_audio\n"
        "from recordings_service.audio.workers import close_worker_pools\n"
        "try:\n"
        "    probe_audio(Path(sys.argv[1]), max_duration_s=21600, timeout_s=15)\n"
        "except UnsupportedAudio:\n"
        "    pass\n"
        "close_worker_pools()\n"
        "assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss > 0, 'the probe worker was reaped'\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True)
    return int(done.stdout.strip())


def test_three_channels(tmp_path: Path) -> None:
    path = tmp_path / "three.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(3)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(np.zeros((8000, 3), dtype="<i2").tobytes())
    refused(path, "3 channels; at most 2 are accepted")


def test_codec_not_accepted_in_wav(tmp_path: Path) -> None:
    path = tmp_path / "double.wav"
    path.write_bytes(wav_header(8000 * 8, bits=64, tag=3) + bytes(8000 * 8))  # IEEE float, 64-bit
    refused(path, "codec pcm_f64le is not accepted in WAV files")


def test_codec_ffmpeg_does_not_know_is_refused_as_such(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # An extensible WAV whose sub-format GUID is zeros: FFmpeg opens its stream with no codec at all, and the prober
    # failed on it (a worker failure logged, "could not be probed") instead of saying what is wrong with the file.
    path = tmp_path / "unknown.wav"
    extension = struct.pack("<HHI", 22, 16, 4) + bytes(16)  # cbSize 22, 16 valid bits, front centre, a GUID of zeros
    path.write_bytes(wav(chunk(b"fmt ", fmt(0xFFFE, 1, bits=16) + extension), chunk(b"data", bytes(16000))))

    refused(path, "a codec FFmpeg does not know is not accepted in WAV files")
    assert "audio probe worker failed" not in caplog.text


def test_header_only_wav(tmp_path: Path) -> None:
    path = tmp_path / "nothing.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
    refused(path, "duration")


def test_longer_than_the_limit(tmp_path: Path) -> None:
    refused(DATA / "call_en_stereo.wav", "duration 23.7 s exceeds the limit of 10 s", max_duration_s=10)


def test_wall_clock_timeout_kills_the_probe_and_replaces_the_worker(tmp_path: Path) -> None:
    path = tmp_path / "hour.wav"
    with path.open("wb") as f:  # an hour of µ-law silence: a warm worker's prober needs far more than 10 ms
        f.write(header := wav_header(3600 * 8000, bits=8, tag=7, before_data=CUE_CHUNK))
        f.truncate(len(header) + 3600 * 8000)
    probe_audio(DATA / "codec_pcm16.wav", max_duration_s=SIX_HOURS)  # at least one warm worker
    before = set(worker_pool(DEFAULT_MEMORY).pids())

    refused(path, "probing took longer than 0.01 s", timeout_s=0.01)

    after = set(worker_pool(DEFAULT_MEMORY).pids())
    killed = before - after
    assert len(killed) == 1 and len(after) == len(before)
    assert all(not Path(f"/proc/{pid}").exists() for pid in killed), "the timed-out worker was reaped"
    assert probe_audio(DATA / "codec_pcm16.wav", max_duration_s=SIX_HOURS).duration_s == pytest.approx(2.0)


def test_a_prober_that_crashes_is_a_refusal_and_its_worker_serves_the_next_file(tmp_path: Path) -> None:
    path = tmp_path / "six-hours.wav"
    with path.open("wb") as f:  # over a second of reading: time to find the prober and crash it
        f.write(header := wav_header(6 * 3600 * 8000, bits=8, tag=7, before_data=CUE_CHUNK))
        f.truncate(len(header) + 6 * 3600 * 8000)
    probe_audio(DATA / "codec_pcm16.wav", max_duration_s=SIX_HOURS)  # at least one warm worker
    workers = set(worker_pool(DEFAULT_MEMORY).pids())

    with ThreadPoolExecutor(1) as background:
        probing = background.submit(probe_audio, path, max_duration_s=SIX_HOURS + 1)
        prober = None
        deadline = time.monotonic() + 20
        while prober is None and time.monotonic() < deadline:
            time.sleep(0.01)
            prober = next((pid for worker in workers for pid in forked_by(worker)), None)
        assert prober is not None, "no worker forked a prober for the file"
        os.kill(prober, signal.SIGSEGV)  # as a hostile file that crashes FFmpeg would
        with pytest.raises(UnsupportedAudio, match=r"the decoder crashed on this file \(SIGSEGV\)"):
            probing.result(timeout=30)

    assert workers <= set(worker_pool(DEFAULT_MEMORY).pids()), "the worker outlived its prober"
    assert probe_audio(DATA / "codec_pcm16.wav", max_duration_s=SIX_HOURS).duration_s == pytest.approx(2.0)


def forked_by(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def test_memory_limit_below_what_ffmpeg_needs_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="memory_limit_bytes"):
        probe_audio(DATA / "codec_pcm16.wav", max_duration_s=SIX_HOURS, memory_limit_bytes=64 * 1024**2)


@pytest.mark.skipif(not CPYTHON_AUDIODATA.is_dir(), reason="CPython's Lib/test/audiodata is not installed here")
@pytest.mark.parametrize(
    "name",
    sorted(p.name for p in CPYTHON_AUDIODATA.glob("pluck-*")) if CPYTHON_AUDIODATA.is_dir() else ["absent"],
)
def test_cpython_audiodata_is_accepted(name: str) -> None:
    info = probe_audio(CPYTHON_AUDIODATA / name, max_duration_s=SIX_HOURS)

    assert info.container in {"wav", "aiff", "au"}
    assert (info.sample_rate, info.channels) == (11025, 2)
    assert info.duration_s == pytest.approx(0.3, abs=0.01)


@pytest.mark.parametrize(("mask", "accepted"), [(0x3, True), (0x0, True), (0x30, False), (0xC, False)])
def test_two_channels_are_taken_as_left_and_right_or_refused_naming_their_layout(
    tmp_path: Path, mask: int, accepted: bool
) -> None:
    """Found by the odd-audio pass: an extensible WAV whose two channels were back-left and back-right (or centre and
    LFE) was taken in, and then FFmpeg could not mute, cut or draw it: a card payment in it stayed in the audio and its
    transcription failed on every try."""
    path = tmp_path / f"mask{mask:x}.wav"
    pcm = "00000001-0000-0010-8000-00aa00389b71"  # KSDATAFORMAT_SUBTYPE_PCM, as Windows writes its GUID
    guid = bytes.fromhex(pcm.replace("-", ""))
    subformat = guid[:4][::-1] + guid[4:6][::-1] + guid[6:8][::-1] + guid[8:]
    extension = struct.pack("<HHI", 22, 16, mask) + subformat
    path.write_bytes(wav(chunk(b"fmt ", fmt(0xFFFE, 2, bits=16) + extension), chunk(b"data", bytes(8000 * 4))))
    if accepted:
        assert probe_audio(path, max_duration_s=SIX_HOURS, timeout_s=20).channels == 2
    else:
        refused(path, "is not accepted: send mono, or stereo with one speaker on the left and the other on the right")


def test_raw_aac_is_refused_as_such_not_as_a_broken_mp3(tmp_path: Path) -> None:
    """Found by the odd-audio pass: an ADTS stream (what an encoder writes without a container) was refused as a
    "corrupt or truncated MP3 header": its frame sync is MPEG's, its layer bits are not."""
    path = tmp_path / "call.aac"
    tone = ["-f", "lavfi", "-i", "sine=frequency=440:duration=2:sample_rate=8000"]
    subprocess.run([Settings().ffmpeg_path(), "-v", "error", *tone, "-c:a", "aac", "-f", "adts", str(path)], check=True)
    refused(path, "raw AAC (ADTS) is not accepted: send the AAC audio in an M4A file")
