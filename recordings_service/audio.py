"""Audio files: probe an upload in a confined child process before anything decodes it in-process."""

from __future__ import annotations

import json
import logging
import math
import signal
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from recordings_service.errors import Invalid

logger = logging.getLogger(__name__)

_WORKER = Path(__file__).with_name("probe_worker.py")
# Loading PyAV's FFmpeg libraries maps about 130 MiB of address space before any file is read.
_MIN_MEMORY_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class AudioInfo:
    """What a probe found: FFmpeg's container and codec names and the decodable duration."""

    container: str
    codec: str
    sample_rate: int
    channels: int
    duration_s: float


class UnsupportedAudio(Invalid):
    """The audio is refused; the message is a human reason that never quotes the file."""

    code = "unsupported_audio"

    def __init__(self, reason: str) -> None:
        super().__init__("audio", reason, code="unsupported_audio")
        self.reason = reason


def probe_audio(
    path: Path,
    *,
    max_duration_s: float,
    timeout_s: float = 20.0,
    memory_limit_bytes: int = 512 * 1024 * 1024,
) -> AudioInfo:
    """Opens and fully decodes `path` in a child process capped in memory, CPU and wall time.

    The child (`probe_worker.py`) sets its own rlimits before importing PyAV or opening the file;
    `preexec_fn` would do the same but is unsafe in a threaded parent (gunicorn gthread workers,
    APScheduler's pool). The child's stderr, where FFmpeg logs, is discarded so a corrupt file
    cannot flood the caller's memory.
    """
    if memory_limit_bytes < _MIN_MEMORY_BYTES:
        raise ValueError(f"memory_limit_bytes must be at least {_MIN_MEMORY_BYTES}: FFmpeg alone maps ~130 MiB")
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise UnsupportedAudio("not a regular file")
    if info.st_size == 0:
        raise UnsupportedAudio("empty file")
    cpu_s = max(1, math.ceil(timeout_s))
    command = [
        sys.executable,
        "-I",
        str(_WORKER),
        str(path),
        repr(float(max_duration_s)),
        str(memory_limit_bytes),
        str(cpu_s),
    ]
    try:
        done = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise UnsupportedAudio(f"probing took longer than {timeout_s:g} s") from None
    return _outcome(done.returncode, done.stdout, cpu_s=cpu_s, memory_limit_bytes=memory_limit_bytes)


def _outcome(returncode: int, stdout: bytes, *, cpu_s: int, memory_limit_bytes: int) -> AudioInfo:
    if returncode == -signal.SIGXCPU:
        raise UnsupportedAudio(f"probing used more than {cpu_s} s of CPU time")
    if returncode == -signal.SIGKILL:
        raise UnsupportedAudio(f"probing was killed; it may need more than {memory_limit_bytes // 2**20} MiB")
    if returncode < 0:
        raise UnsupportedAudio(f"the decoder crashed on this file ({signal.Signals(-returncode).name})")
    try:
        result = json.loads(stdout.strip().splitlines()[-1]) if returncode == 0 else None
    except (ValueError, IndexError):
        result = None
    if not isinstance(result, dict):
        # A worker bug or an exception PyAV raised that the worker does not map; refuse, and log it.
        logger.warning("audio probe worker failed", extra={"returncode": returncode})
        raise UnsupportedAudio("the file could not be probed")
    if "refused" in result:
        raise UnsupportedAudio(str(result["refused"]))
    found = result["info"]
    return AudioInfo(
        container=str(found["container"]),
        codec=str(found["codec"]),
        sample_rate=int(found["sample_rate"]),
        channels=int(found["channels"]),
        duration_s=float(found["duration_s"]),
    )
