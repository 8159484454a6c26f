"""Running ffmpeg on files: the one place an ffmpeg process is started, and what it says of an input."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from recordings_service.audio.confine import confined_command, warn_if_unconfined
from recordings_service.audio.probe_worker import DECODERS, DEMUXERS
from recordings_service.errors import Invalid

# Stand-ins in an ffmpeg argument list for the input and output files `start_ffmpeg` opens.
SOURCE = "<source>"
DESTINATION = "<destination>"


@dataclass(frozen=True)
class FileInfo:
    """What ffmpeg reports about a file's container and first audio stream."""

    container: str
    codec: str
    sample_rate: int
    channels: int
    sample_format: str
    bitrate_kbps: int | None
    duration_s: float | None


_INPUT = re.compile(r"^Input #0, (.+?), from ", re.MULTILINE)
_DURATION = re.compile(r"^\s*Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)", re.MULTILINE)
_AUDIO = re.compile(r"^\s*Stream #0:\d+\S*: Audio: (\w+)[^,]*, (\d+) Hz, ([^,]+), ([^,]+)(.*)$", re.MULTILINE)
_LAYOUT = re.compile(r"^(?:mono|stereo|(\d+) channels)$")
_BITRATE = re.compile(r", (\d+) kb/s")
_OVERALL_BITRATE = re.compile(r"^\s*Duration: .*, bitrate: (\d+) kb/s", re.MULTILINE)


def describe(source: Path, *, ffmpeg: str) -> FileInfo:
    """Reads container, codec, rate, channels and duration from ffmpeg's description of the input."""
    if not source.is_file():
        raise Invalid("audio", "the audio file does not exist")
    # Without an output file ffmpeg describes the input on stderr and exits 1: that exit is expected.
    text = start_ffmpeg(ffmpeg, [SOURCE], source=source, loglevel="info").wait()
    container, audio = _INPUT.search(text), _AUDIO.search(text)
    if container is None or audio is None:
        raise Invalid("audio", "the file holds no audio ffmpeg can read")
    layout = _LAYOUT.match(audio.group(3).strip())
    if layout is None:
        raise Invalid("audio", f"unsupported channel layout {audio.group(3).strip()!r}")
    channels = int(layout.group(1)) if layout.group(1) else (1 if audio.group(3).strip() == "mono" else 2)
    duration = _DURATION.search(text)
    # The stream's bitrate, else (Ogg/Opus states none) the file's.
    bitrate = _BITRATE.search(audio.group(5)) or _OVERALL_BITRATE.search(text)
    return FileInfo(
        container=container.group(1),
        codec=audio.group(1),
        sample_rate=int(audio.group(2)),
        channels=channels,
        sample_format=audio.group(4).strip(),
        bitrate_kbps=int(bitrate.group(1)) if bitrate else None,
        duration_s=int(duration.group(1)) * 3600 + int(duration.group(2)) * 60 + float(duration.group(3))
        if duration
        else None,
    )


class FfmpegProcess:
    """A running ffmpeg and the file that collects its stderr."""

    def __init__(self, popen: subprocess.Popen[bytes], errors: IO[bytes]) -> None:
        self.popen = popen
        self.errors = errors

    def wait(self) -> str:
        """Waits for ffmpeg to exit and returns what it wrote to stderr."""
        self.popen.wait()
        if self.popen.stdout is not None:
            self.popen.stdout.close()
        self.errors.seek(0)
        text = self.errors.read().decode("utf-8", "replace")
        self.errors.close()
        return text

    def kill(self) -> None:
        """Stops ffmpeg and releases its pipes and stderr file."""
        self.popen.kill()
        self.wait()


def finish(process: FfmpegProcess, *, what: str, invalid: bool = False) -> None:
    """Waits for ffmpeg; a failure is `Invalid` (field "audio") for a bad input, else a RuntimeError."""
    errors = process.wait()
    if process.popen.returncode == 0:
        return
    detail = errors.strip().splitlines()[-1][:300] if errors.strip() else f"exit status {process.popen.returncode}"
    if invalid:
        raise Invalid("audio", f"ffmpeg could not {what}: {detail}")
    raise RuntimeError(f"ffmpeg could not {what}: {detail}")


def start_ffmpeg(
    ffmpeg: str,
    args: Sequence[str],
    *,
    source: Path | None = None,
    destination: Path | None = None,
    stdin: bool = False,
    stdout: bool = False,
    loglevel: Literal["error", "info"] = "error",
) -> FfmpegProcess:
    """Starts ffmpeg confined (see `confine`) with `args`; every ffmpeg Callvault runs starts here.

    ffmpeg cannot open a path: `SOURCE` in `args` stands for `source` (opened here, read as a file
    descriptor through the accepted demuxers and decoders only) and `DESTINATION` for `destination`
    (created here, written as a file descriptor). Everything else is read from stdin or written to stdout.
    """
    warn_if_unconfined()
    # stderr goes to a file so that no pipe can fill up and stall the decode -> mute -> encode chain.
    errors = tempfile.TemporaryFile()  # noqa: SIM115 - FfmpegProcess closes it when ffmpeg exits
    with contextlib.ExitStack() as opened:
        try:
            fds: dict[str, int] = {}
            if source is not None:
                fds[SOURCE] = opened.enter_context(_descriptor(source, os.O_RDONLY))
            if destination is not None:
                fds[DESTINATION] = opened.enter_context(
                    _descriptor(destination, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                )
            popen = subprocess.Popen(
                confined_command([ffmpeg, "-nostdin", "-hide_banner", "-loglevel", loglevel, *_expand(args, fds)]),
                stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE if stdout else subprocess.DEVNULL,
                stderr=errors,
                pass_fds=tuple(fds.values()),
                env={},
                cwd="/",
            )
        except BaseException:
            errors.close()
            raise
    return FfmpegProcess(popen, errors)


@contextlib.contextmanager
def _descriptor(path: Path, flags: int, mode: int = 0o600) -> Iterator[int]:
    fd = os.open(path, flags | os.O_CLOEXEC | os.O_NOFOLLOW, mode)
    try:
        yield fd
    finally:
        os.close(fd)  # the child holds its own copy


def _expand(args: Sequence[str], fds: dict[str, int]) -> list[str]:
    expanded: list[str] = []
    for arg in args:
        if arg == SOURCE:
            # Input options: the whitelists stop a playlist (HLS, ffconcat) from naming another file.
            expanded += ["-protocol_whitelist", "fd", "-format_whitelist", DEMUXERS]
            expanded += ["-codec_whitelist", DECODERS, "-fd", str(fds[SOURCE]), "-i", "fd:"]
        elif arg == DESTINATION:
            expanded += ["-fd", str(fds[DESTINATION]), "fd:"]
        else:
            expanded.append(arg)
    return expanded
