"""A plain WAV's probe answered by the audio worker from its header: the FFmpeg probe's answer, or none at all.

Each layout below is probed both ways, the FFmpeg probe in this process (`probe_worker.probe`, what the forked
child runs): wherever `plain_wav_info` answers, it answers what FFmpeg does, and it answers the layouts telephony
systems and the usual tools write.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import struct
from pathlib import Path
from typing import Any

import pytest

from recordings_service.audio import probe_worker
from recordings_service.audio.fork_server import answered_in_worker
from recordings_service.audio.plain_wav import CODECS, plain_wav_info
from recordings_service.audio.probe import UnsupportedAudio, probe_audio
from tests.factories.wav import chunk, fmt, wav

DATA = Path(__file__).parents[1] / "data"
LIMIT_S = 600.0


def data(seconds: float = 1.0, *, frame: int = 1, rate: int = 8000, extra: int = 0) -> bytes:
    return secrets.token_bytes(round(seconds * rate) * frame + extra)


# cbSize 22, 16 valid bits, front centre, KSDATAFORMAT_SUBTYPE_PCM
EXTENSIBLE_PCM = struct.pack("<HHI", 22, 16, 4) + bytes.fromhex("0100000000001000800000aa00389b71")
INFO = chunk(b"LIST", b"INFO" + chunk(b"ISFT", b"Lavf61.7.100\0"))
MONO_MULAW = chunk(b"fmt ", fmt())

ANSWERED: dict[str, bytes] = {
    **{
        f"{codec} {channels} ch": wav(
            chunk(b"fmt ", fmt(tag, channels, bits=bits)), chunk(b"data", data(frame=channels * bits // 8))
        )
        for (tag, bits), codec in CODECS.items()
        for channels in (1, 2)
    },
    **{
        f"s16le at {rate} Hz": wav(chunk(b"fmt ", fmt(1, 1, rate, 16)), chunk(b"data", data(2, frame=2, rate=rate)))
        for rate in (1, 16000, 44100, 192000)
    },
    "fmt of 18 bytes, no extension": wav(chunk(b"fmt ", fmt() + b"\0\0"), chunk(b"data", data())),
    "fact, LIST INFO and JUNK first": wav(
        MONO_MULAW, chunk(b"fact", struct.pack("<I", 8000)), INFO, chunk(b"JUNK", bytes(28)), chunk(b"data", data())
    ),
    "odd data with its pad byte": wav(MONO_MULAW, chunk(b"data", data(extra=1))),
    "odd data ending the file": wav(MONO_MULAW, chunk(b"data", data(extra=1), pad=False)),
    "a partial frame at the end": wav(chunk(b"fmt ", fmt(1, 2, bits=16)), chunk(b"data", data(frame=4, extra=2))),
    "RIFF size of zero": wav(MONO_MULAW, chunk(b"data", data()), riff_size=0),
    "RIFF size past the end": wav(MONO_MULAW, chunk(b"data", data()), riff_size=0xFFFFFFF0),
    "at the duration limit": wav(MONO_MULAW, chunk(b"data", data(LIMIT_S))),
}

LEFT_TO_FFMPEG: dict[str, bytes] = {
    "extensible format": wav(chunk(b"fmt ", fmt(0xFFFE, 1, bits=16) + EXTENSIBLE_PCM), chunk(b"data", data(frame=2))),
    "64-bit float": wav(chunk(b"fmt ", fmt(3, 1, bits=64)), chunk(b"data", data(frame=8))),
    "12-bit PCM": wav(chunk(b"fmt ", fmt(1, 1, bits=12, block_align=2)), chunk(b"data", data(frame=2))),
    "GSM": wav(chunk(b"fmt ", fmt(0x31, 1, bits=0, block_align=65, byte_rate=1625)), chunk(b"data", bytes(650))),
    "three channels": wav(chunk(b"fmt ", fmt(channels=3)), chunk(b"data", data(frame=3))),
    "sample rate zero": wav(chunk(b"fmt ", fmt(rate=0)), chunk(b"data", data())),
    "sample rate over 192 kHz": wav(chunk(b"fmt ", fmt(rate=200_000)), chunk(b"data", data(0.01, rate=200_000))),
    "block align disagrees": wav(chunk(b"fmt ", fmt(1, 1, bits=16, block_align=4)), chunk(b"data", data(frame=2))),
    "byte rate disagrees": wav(chunk(b"fmt ", fmt(byte_rate=4000)), chunk(b"data", data())),
    "fmt with an extension": wav(chunk(b"fmt ", fmt() + b"\x02\0\0\0"), chunk(b"data", data())),
    "two fmt chunks": wav(MONO_MULAW, chunk(b"fmt ", fmt(6)), chunk(b"data", data())),
    "no fmt before the data": wav(chunk(b"data", data()), MONO_MULAW),
    "cue chunk": wav(MONO_MULAW, chunk(b"cue ", struct.pack("<I", 0)), chunk(b"data", data())),
    "bext chunk": wav(MONO_MULAW, chunk(b"bext", bytes(602)), chunk(b"data", data())),
    "odd LIST chunk": wav(MONO_MULAW, chunk(b"LIST", b"INFO" + b"x"), chunk(b"data", data())),
    "LIST too short": wav(MONO_MULAW, chunk(b"LIST", b"IN"), chunk(b"data", data())),
    "a chunk after the data": wav(MONO_MULAW, chunk(b"data", data()), INFO),
    "junk after the data": wav(MONO_MULAW, chunk(b"data", data())) + b"\xff" * 100,
    "data cut short": wav(MONO_MULAW, chunk(b"data", data(), size=16000)),
    "data cut far short": wav(MONO_MULAW, chunk(b"data", data(), size=800_000)),
    "empty data": wav(MONO_MULAW, chunk(b"data", b"")),
    "streaming placeholder size": wav(MONO_MULAW, chunk(b"data", data(), size=0xFFFFFFFF)),
    "less than one frame": wav(chunk(b"fmt ", fmt(1, 2, bits=16)), chunk(b"data", b"\0\0")),
    "over the duration limit": wav(MONO_MULAW, chunk(b"data", data(LIMIT_S + 0.01))),
    "RF64": wav(MONO_MULAW, chunk(b"data", data()), magic=b"RF64"),
    "header only": wav(MONO_MULAW),
    "nine header chunks": wav(MONO_MULAW, *[chunk(b"JUNK", bytes(4))] * 8, chunk(b"data", data())),
}


def ffmpeg_probe(path: Path) -> dict[str, Any] | str:
    with path.open("rb") as source:
        try:
            return probe_worker.probe(source, max_duration_s=LIMIT_S)
        except probe_worker.Refused as refused:
            return f"refused: {refused}"


def both(tmp_path: Path, content: bytes) -> tuple[dict[str, Any] | None, dict[str, Any] | str]:
    path = tmp_path / "call.wav"
    path.write_bytes(content)
    fd = os.open(path, os.O_RDONLY)
    try:
        answered = plain_wav_info(fd, max_duration_s=LIMIT_S)
        assert os.lseek(fd, 0, os.SEEK_CUR) == 0, "the descriptor's position is the child's to read from"
    finally:
        os.close(fd)
    return answered, ffmpeg_probe(path)


@pytest.mark.parametrize("name", ANSWERED)
def test_a_plain_wav_is_answered_as_ffmpeg_answers(tmp_path: Path, name: str) -> None:
    answered, ffmpeg = both(tmp_path, ANSWERED[name])

    assert answered is not None
    assert answered == ffmpeg


@pytest.mark.parametrize("name", LEFT_TO_FFMPEG)
def test_any_other_layout_is_left_to_ffmpeg(tmp_path: Path, name: str) -> None:
    answered, _ = both(tmp_path, LEFT_TO_FFMPEG[name])

    assert answered is None


@pytest.mark.parametrize("name", ["call_en_stereo.wav", "call_mono.wav", "codec_alaw.wav", "codec_pcm8.wav"])
def test_files_written_by_ffmpeg_and_sox_are_plain(tmp_path: Path, name: str) -> None:
    answered, ffmpeg = both(tmp_path, (DATA / name).read_bytes())

    assert answered is not None
    assert answered == ffmpeg


def answer(request: dict[str, Any], source: int) -> tuple[bool, bytes]:
    reader, writer = os.pipe()
    try:
        with open(os.devnull, "wb") as discard:
            answered = answered_in_worker(request, [source, writer, discard.fileno()])
        os.close(writer)
        writer = -1
        return answered, os.read(reader, 65536)
    finally:
        os.close(reader)
        if writer >= 0:
            os.close(writer)


def test_the_worker_writes_the_answer_where_the_child_would(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    path.write_bytes(ANSWERED["pcm_mulaw 2 ch"])
    with path.open("rb") as source:
        answered, written = answer({"task": "probe", "max_duration_s": LIMIT_S, "cpu_s": 20}, source.fileno())

    assert answered
    assert json.loads(written) == {"info": ffmpeg_probe(path)}


@pytest.mark.parametrize(
    ("request_", "content"),
    [
        ({"task": "decode", "cpu_s": 20}, ANSWERED["pcm_mulaw 2 ch"]),
        ({"task": "probe", "max_duration_s": LIMIT_S, "cpu_s": 20}, LEFT_TO_FFMPEG["data cut short"]),
    ],
    ids=["decode", "not plain"],
)
def test_everything_else_goes_to_a_child(tmp_path: Path, request_: dict[str, Any], content: bytes) -> None:
    path = tmp_path / "call.wav"
    path.write_bytes(content)
    with path.open("rb") as source:
        assert answer(request_, source.fileno()) == (False, b"")


def test_a_stream_goes_to_a_child() -> None:
    reader, writer = os.pipe()
    try:
        os.write(writer, ANSWERED["pcm_mulaw 1 ch"][:4096])
        assert answer({"task": "probe", "max_duration_s": LIMIT_S, "cpu_s": 20}, reader) == (False, b"")
    finally:
        os.close(reader)
        os.close(writer)


def test_probe_audio_answers_a_plain_wav_and_refuses_a_cut_one(tmp_path: Path) -> None:
    plain, cut = tmp_path / "plain.wav", tmp_path / "cut.wav"
    plain.write_bytes(ANSWERED["pcm_mulaw 2 ch"])
    cut.write_bytes(LEFT_TO_FFMPEG["data cut far short"])

    info = probe_audio(plain, max_duration_s=LIMIT_S)
    assert (info.container, info.codec, info.sample_rate, info.channels, info.duration_s) == (
        "wav",
        "pcm_mulaw",
        8000,
        2,
        1.0,
    )
    with pytest.raises(UnsupportedAudio, match=r"header declares 100\.0 s but only 1\.0 s can be decoded"):
        probe_audio(cut, max_duration_s=LIMIT_S)


def test_a_fmt_chunk_claiming_gigabytes_is_not_read(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The worker read a format chunk whole whatever length it claimed: a claim of 2 GiB was a MemoryError past the
    worker's memory limit, and the worker died on it ("could not be probed", a worker failure logged)."""
    path = tmp_path / "huge-fmt.wav"
    path.write_bytes(wav(chunk(b"fmt ", fmt(), size=0x7FFFFFFE), chunk(b"data", data())))

    assert both(tmp_path, path.read_bytes())[0] is None
    with pytest.raises(UnsupportedAudio) as refused:
        probe_audio(path, max_duration_s=LIMIT_S)
    assert refused.value.message != "the file could not be probed"
    assert "audio probe worker failed" not in caplog.text


def test_mutated_headers_are_answered_as_ffmpeg_answers_or_left_to_it(tmp_path: Path) -> None:
    """A bounded fuzz: plain files with one to three bytes of their headers changed, cut short or lengthened. Run
    with 20 000 mutations while it was written: 4 996 answered, each as FFmpeg answers."""
    rng = random.Random(17)
    plain = [
        ANSWERED[name]
        for name in ("pcm_mulaw 2 ch", "fact, LIST INFO and JUNK first", "pcm_s16le 1 ch", "odd data ending the file")
    ]
    answered = 0
    for _ in range(400):
        content = bytearray(rng.choice(plain))
        for _ in range(rng.randint(1, 3)):
            roll = rng.random()
            if roll < 0.7:
                content[rng.randrange(min(len(content), 120))] = rng.randrange(256)
            elif roll < 0.85:
                del content[rng.randrange(1, len(content)) :]
            else:
                content += bytes(rng.randrange(1, 5))
        fast, ffmpeg = both(tmp_path, bytes(content))
        if fast is not None:
            answered += 1
            assert fast == ffmpeg, bytes(content[:80]).hex()
    assert answered >= 50  # the fuzz reaches the answering side, not only the refusals
