"""Confined decoding: a decoder taken over by a hostile file reaches no secret, no other file, no network.

Everything here runs for real on this kernel (Landlock, seccomp, the pip ffmpeg, PyAV, SeaweedFS); the
tests are skipped only where the kernel lacks a confinement, which `confinement_gaps` names.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.audio import confine
from recordings_service.audio.confine import confined_command, confinement_gaps
from recordings_service.audio.decode import decoded_pcm
from recordings_service.audio.ffmpeg import describe, finish, start_ffmpeg
from recordings_service.audio.probe import UnsupportedAudio, probe_audio
from recordings_service.audio.workers import worker_pool
from recordings_service.config import Settings
from tests.factories.recordings import call_metadata, make_token, post_ingest

DATA = Path(__file__).parents[1] / "data"
SIX_HOURS = 6 * 3600.0
DEFAULT_MEMORY = 512 * 1024**2  # probe_audio's default memory_limit_bytes
CANARY = "CANARY-7f3a9c"

needs_confinement = pytest.mark.skipif(
    bool(confinement_gaps()), reason=f"this kernel cannot confine: {confinement_gaps()}"
)


def test_a_kernel_without_landlock_or_seccomp_is_named_in_a_warning_not_passed_over(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A kernel without Landlock cannot be had here: its answer (ABI 0) is the one thing stood in for.
    monkeypatch.setattr(confine, "landlock_abi", lambda: 0)
    monkeypatch.setattr(confine, "_seccomp_filter", lambda: None)
    monkeypatch.setattr(confine, "_warned", threading.Event())

    with caplog.at_level(logging.WARNING, logger="recordings_service.audio.confine"):
        probe_audio(DATA / "codec_pcm16.wav", max_duration_s=SIX_HOURS)
        probe_audio(DATA / "codec_pcm16.wav", max_duration_s=SIX_HOURS)

    gaps = [record.gap for record in caplog.records if record.getMessage() == "audio decoding is not fully confined"]
    assert len(gaps) == 2, "once per process and missing piece"
    assert "Landlock is unavailable" in gaps[0] and "seccomp is unavailable" in gaps[1]


# What a decoder that a hostile file took over would try, run after `confine()` as every worker does.
HOSTILE = textwrap.dedent(
    """
    import json, os, socket, sys
    from recordings_service.audio.confine import confine

    secrets_file, other_file, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    confine()
    tried = {}

    def attempt(name, action):
        try:
            tried[name] = "allowed: " + repr(action())[:200]
        except OSError as exc:
            tried[name] = type(exc).__name__

    attempt("secrets.env", lambda: open(secrets_file).read())
    attempt("environ", lambda: open("/proc/self/environ", "rb").read())
    attempt("other file", lambda: open(other_file, "rb").read())
    attempt("write", lambda: open(other_file + ".new", "w").write("x"))
    attempt("tcp", lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM).connect(("127.0.0.1", port)))
    attempt("tcp6", lambda: socket.socket(socket.AF_INET6, socket.SOCK_STREAM))
    attempt("udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", port)))
    attempt("unix", lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close())
    print(json.dumps(tried))
    """
)


def tone_wav(path: Path, *, seconds: float = 1.0, rate: int = 8000) -> Path:
    samples = (0.5 * 32767 * np.sin(2 * np.pi * 440 * np.arange(int(seconds * rate)) / rate)).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


@needs_confinement
def test_a_confined_worker_cannot_read_secrets_environ_or_other_files_nor_open_network_sockets(
    tmp_path: Path,
) -> None:
    secrets_file = tmp_path / "secrets.env"
    secrets_file.write_text(f"CALLVAULT_MASTER_KEY={CANARY}\n")
    other = tmp_path / "other-recording.wav"
    other.write_bytes(CANARY.encode())
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    port = listener.getsockname()[1]
    try:
        # The leaked key in its environment stands for whatever a worker might still inherit.
        ran = subprocess.run(
            [sys.executable, "-I", "-c", HOSTILE, str(secrets_file), str(other), str(port)],
            env={"CALLVAULT_MASTER_KEY": CANARY},
            capture_output=True,
            timeout=60,
            check=True,
        )
        with pytest.raises(BlockingIOError):
            listener.accept()  # nothing connected
    finally:
        listener.close()
    tried = json.loads(ran.stdout)
    assert CANARY not in ran.stdout.decode()
    assert tried == {
        "secrets.env": "PermissionError",
        "environ": "PermissionError",
        "other file": "PermissionError",
        "write": "PermissionError",
        "tcp": "PermissionError",
        "tcp6": "PermissionError",
        "udp": "PermissionError",
        "unix": "allowed: None",  # the filter is precise: the worker still talks to its parent
    }
    assert not (tmp_path / "other-recording.wav.new").exists()


@needs_confinement
def test_probe_workers_start_with_no_environment_and_no_inherited_descriptors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLVAULT_MASTER_KEY", CANARY)
    probe_audio(DATA / "codec_pcm16.wav", max_duration_s=SIX_HOURS)  # at least one spare worker is waiting
    (pid, *_) = worker_pool(DEFAULT_MEMORY).pids()
    assert Path(f"/proc/{pid}/environ").read_bytes() == b""
    # A spare may still be loading PyAV (its module files open one by one); once confined it opens nothing.
    status = Path(f"/proc/{pid}/status")
    deadline = time.monotonic() + 30
    while "Seccomp:\t2" not in status.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "Seccomp:\t2" in status.read_text(), "the worker confined itself before being handed a file"
    # stdin (the request socket), stdout (the reply pipe), stderr (/dev/null): nothing of the parent's.
    assert sorted(os.listdir(f"/proc/{pid}/fd")) == ["0", "1", "2"]


def children() -> list[int]:
    pids: list[int] = []
    for task in Path("/proc/self/task").iterdir():
        pids += [int(pid) for pid in (task / "children").read_text().split()]
    return pids


def forked_by_workers() -> list[int]:
    """The children the audio workers of this process have forked for files (probers, decoders)."""
    pids: list[int] = []
    for worker in children():
        if b"fork_server" in Path(f"/proc/{worker}/cmdline").read_bytes():
            pids += [int(pid) for pid in Path(f"/proc/{worker}/task/{worker}/children").read_text().split()]
    return pids


def decoder_of(path: Path) -> tuple[int, Iterator[object]]:
    """A decoder streaming `path`, caught while it waits for the reader: its pid and its PCM blocks."""
    blocks = decoded_pcm(path, duration_s=30, rate=8000, channels=1)
    next(blocks)  # the child has confined itself and is writing PCM
    (pid,) = [pid for pid in forked_by_workers() if os.readlink(f"/proc/{pid}/fd/0") == str(path.resolve())]
    return pid, blocks


@needs_confinement
def test_the_decoder_streaming_a_call_is_confined_with_only_its_input_and_output(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CALLVAULT_MASTER_KEY", CANARY)
    pid, blocks = decoder_of(DATA / "call_en_stereo.wav")
    try:
        assert Path(f"/proc/{pid}/environ").read_bytes() == b""
        assert "Seccomp:\t2" in Path(f"/proc/{pid}/status").read_text()
        fds = sorted(fd.name for fd in Path(f"/proc/{pid}/fd").iterdir())
        assert fds == ["0", "1", "2"]  # the call, the PCM pipe, the error file
    finally:
        blocks.close()


def test_each_file_is_decoded_in_a_process_of_its_own_that_is_then_gone() -> None:
    first, blocks = decoder_of(DATA / "call_en_stereo.wav")
    blocks.close()
    second, blocks = decoder_of(DATA / "call_fi_stereo.wav")
    blocks.close()

    assert first != second, "the second file never met the process that read the first"
    assert not {first, second} & set(worker_pool(DEFAULT_MEMORY).pids()), "no idle worker has read a file"
    assert not Path(f"/proc/{first}").exists() and not Path(f"/proc/{second}").exists(), "both were reaped"


@needs_confinement
def test_ffmpeg_runs_with_an_empty_environment_and_cannot_open_a_path(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALLVAULT_MASTER_KEY", CANARY)
    secrets_file = tmp_path / "secrets.env"
    secrets_file.write_text(f"CALLVAULT_MASTER_KEY={CANARY}\n")
    ffmpeg = settings.ffmpeg_path()

    # Handed a path instead of a descriptor, confined ffmpeg cannot open it, even as plain data.
    args = ["-f", "data", "-i", str(secrets_file), "-map", "0", "-c", "copy", "-f", "data", "pipe:1"]
    process = start_ffmpeg(ffmpeg, args, stdout=True)
    assert process.popen.stdout is not None
    leaked = process.popen.stdout.read()
    with pytest.raises(RuntimeError, match="Permission denied"):
        finish(process, what="read the file")
    assert CANARY.encode() not in leaked

    # A running ffmpeg (waiting for PCM on stdin) has no environment and only stdin, stdout and stderr.
    args = ["-protocol_whitelist", "pipe", "-f", "s16le", "-ar", "8000", "-ac", "1", "-i", "pipe:0", "-f", "null", "-"]
    running = start_ffmpeg(ffmpeg, args, stdin=True)
    try:
        exe = Path(f"/proc/{running.popen.pid}/exe")
        deadline = time.monotonic() + 30
        while exe.resolve() != Path(ffmpeg).resolve() and time.monotonic() < deadline:
            time.sleep(0.05)  # the confining launcher has not exec'd ffmpeg yet
        assert exe.resolve() == Path(ffmpeg).resolve()
        assert Path(f"/proc/{running.popen.pid}/environ").read_bytes() == b""
        # ffmpeg's pipe protocol reads a dup() of its stdin; nothing else stays open. Just after the exec the loader
        # holds each shared library open while it maps it (CI saw libm.so.6 once), so what stays is waited for.
        targets = open_files(running.popen.pid)
        while set(targets.values()) != {targets.get(fd) for fd in "012"} and time.monotonic() < deadline:
            time.sleep(0.05)
            targets = open_files(running.popen.pid)
        assert set(targets.values()) == {targets["0"], targets["1"], targets["2"]}
    finally:
        assert running.popen.stdin is not None
        running.popen.stdin.close()
        finish(running, what="decode silence")


def open_files(pid: int) -> dict[str, str]:
    """What each of the process's descriptors points at, by descriptor number."""
    targets = {}
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(FileNotFoundError):  # closed between the listing and the look
            targets[fd.name] = os.readlink(fd)
    return targets


def concat_list(tmp_path: Path, target: Path) -> Path:
    playlist = tmp_path / "call.ffconcat"
    playlist.write_text(f"ffconcat version 1.0\nfile 'file:{target}'\n")
    return playlist


def hls_playlist(tmp_path: Path, target: Path) -> Path:
    playlist = tmp_path / "call.m3u8"
    playlist.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:1.0,\nfile:{target}\n#EXT-X-ENDLIST\n")
    return playlist


HLS_ANY_FILE = ["-allowed_extensions", "ALL", "-extension_picky", "0"]
# (playlist, ffmpeg input options that let it name a local file, how ffmpeg reports the refused open)
PLAYLISTS = [
    pytest.param(
        concat_list,
        ["-f", "concat", "-safe", "0", "-protocol_whitelist", "fd,file"],
        b"Permission denied",
        id="ffconcat",
    ),
    pytest.param(
        hls_playlist,
        ["-f", "hls", "-protocol_whitelist", "fd,file", *HLS_ANY_FILE],
        b"Error when loading first segment",  # the HLS demuxer does not pass the errno on
        id="m3u8",
    ),
]


@needs_confinement
@pytest.mark.parametrize(("write_playlist", "demuxer_args", "refused"), PLAYLISTS)
def test_a_playlist_naming_another_file_is_refused_and_even_unwhitelisted_cannot_read_it(
    tmp_path: Path, settings: Settings, write_playlist: object, demuxer_args: list[str], refused: bytes
) -> None:
    # The file the playlist points at is audio, so that a decoder that reads it visibly outputs it.
    canary = tone_wav(tmp_path / "secrets.env")
    playlist = write_playlist(tmp_path, canary)  # type: ignore[operator]
    ffmpeg = settings.ffmpeg_path()

    with pytest.raises(UnsupportedAudio, match="not an audio file"):
        probe_audio(playlist, max_duration_s=SIX_HOURS)
    with pytest.raises(Exception, match="no audio ffmpeg can read"):
        describe(playlist, ffmpeg=ffmpeg)

    # Past the whitelist (the playlist demuxer named, the file protocol allowed), confinement still holds:
    # ffmpeg reads the playlist through its descriptor, and is refused the file it names.
    with playlist.open("rb") as listing:
        fd = listing.fileno()
        decode = [*demuxer_args, "-fd", str(fd), "-i", "fd:", "-f", "s16le", "-c:a", "pcm_s16le", "pipe:1"]
        confined = subprocess.run(
            confined_command([ffmpeg, "-nostdin", "-hide_banner", *decode]),
            pass_fds=(fd,),
            env={},
            capture_output=True,
            timeout=60,
            check=False,
        )
        # The same command unconfined does decode the canary: the test can tell the difference.
        listing.seek(0)
        command = [ffmpeg, "-nostdin", "-hide_banner", *decode]
        unconfined = subprocess.run(command, pass_fds=(fd,), capture_output=True, timeout=60, check=True)
    assert len(unconfined.stdout) >= 8000 * 2 * 0.9, unconfined.stderr[-500:]
    assert confined.stdout == b""
    assert refused in confined.stderr, confined.stderr[-500:]
    assert confined.returncode != 0


@pytest.mark.parametrize("write_playlist", [concat_list, hls_playlist], ids=["ffconcat", "m3u8"])
def test_an_uploaded_playlist_is_422_at_ingest(
    client: FlaskClient, session: Session, tmp_path: Path, write_playlist: object
) -> None:
    playlist = write_playlist(tmp_path, tone_wav(tmp_path / "secrets.env"))  # type: ignore[operator]
    response = post_ingest(client, make_token(session), call_metadata(), audio=playlist)
    assert response.status_code == 422
    body = response.get_json()
    assert (body["error"], body["field"]) == ("unsupported_audio", "audio")
