"""Running ffmpeg on files: the one place an ffmpeg process is started, and what it says of an input."""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from recordings_service.errors import Invalid


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
    text = start_ffmpeg(ffmpeg, ["-i", str(source)], loglevel="info").wait()
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
    stdin: bool = False,
    stdout: bool = False,
    loglevel: Literal["error", "info"] = "error",
) -> FfmpegProcess:
    """Starts ffmpeg with `args` (an argument list, no shell); every ffmpeg this module runs starts here."""
    # stderr goes to a file so that no pipe can fill up and stall the decode -> mute -> encode chain.
    errors = tempfile.TemporaryFile()  # noqa: SIM115 - FfmpegProcess closes it when ffmpeg exits
    try:
        popen = subprocess.Popen(
            [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", loglevel, *args],
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE if stdout else subprocess.DEVNULL,
            stderr=errors,
        )
    except BaseException:
        errors.close()
        raise
    return FfmpegProcess(popen, errors)
