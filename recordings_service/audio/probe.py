"""Audio files: probe an upload in a confined child process before anything decodes it in-process."""

from __future__ import annotations

import json
import logging
import math
import signal
import stat
from dataclasses import dataclass
from pathlib import Path

from recordings_service.audio.confine import warn_if_unconfined
from recordings_service.audio.worker_pool import WorkerExited, WorkerTimeout
from recordings_service.audio.workers import run_task
from recordings_service.errors import Invalid

logger = logging.getLogger(__name__)

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
    """Opens and reads `path` to its end (decoding it unless it is plain PCM or G.711) in a confined child
    process capped in memory, CPU and wall time.

    The audio worker (`fork_server.py`) caps its own address space before importing PyAV; `preexec_fn`
    would do the same but is unsafe in a threaded parent (gunicorn gthread workers, APScheduler's
    pool). It then confines itself (`confine`) and receives the file as a descriptor, which a child
    forked for it probes (`probe_worker.py`): each file meets a fresh copy of the loaded worker. A probe
    that does not answer within `timeout_s` is killed with its worker, so a hostile file can neither hang
    nor exhaust the caller.
    """
    if memory_limit_bytes < _MIN_MEMORY_BYTES:
        raise ValueError(f"memory_limit_bytes must be at least {_MIN_MEMORY_BYTES}: FFmpeg alone maps ~130 MiB")
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise UnsupportedAudio("not a regular file")
    if info.st_size == 0:
        raise UnsupportedAudio("empty file")
    warn_if_unconfined()
    cpu_s = max(1, math.ceil(timeout_s))
    request = {"task": "probe", "max_duration_s": float(max_duration_s), "cpu_s": cpu_s}
    try:
        with path.open("rb") as source:
            returncode, output = run_task(
                request, stdin=source.fileno(), memory_limit_bytes=memory_limit_bytes, timeout_s=timeout_s
            )
    except WorkerTimeout:
        raise UnsupportedAudio(f"probing took longer than {timeout_s:g} s") from None
    except WorkerExited as exc:
        returncode, output = exc.returncode or 1, b""
    if returncode != 0:
        raise _refusal(returncode, cpu_s=cpu_s, memory_limit_bytes=memory_limit_bytes)
    return _info(output)


def _refusal(returncode: int, *, cpu_s: int, memory_limit_bytes: int) -> UnsupportedAudio:
    if returncode == -signal.SIGXCPU:
        return UnsupportedAudio(f"probing used more than {cpu_s} s of CPU time")
    if returncode == -signal.SIGKILL:
        return UnsupportedAudio(f"probing was killed; it may need more than {memory_limit_bytes // 2**20} MiB")
    if returncode < 0:
        return UnsupportedAudio(f"the decoder crashed on this file ({signal.Signals(-returncode).name})")
    # A worker bug or an exception PyAV raised that the worker does not map; refuse, and log it.
    logger.warning("audio probe worker failed", extra={"returncode": returncode})
    return UnsupportedAudio("the file could not be probed")


def _info(output: bytes) -> AudioInfo:
    try:
        answer = json.loads(output)
        if "refused" in answer:
            raise UnsupportedAudio(str(answer["refused"]))
        found = answer["info"]
        return AudioInfo(
            container=str(found["container"]),
            codec=str(found["codec"]),
            sample_rate=int(found["sample_rate"]),
            channels=int(found["channels"]),
            duration_s=float(found["duration_s"]),
        )
    except (ValueError, TypeError, KeyError):
        # Only a prober taken over by the file would answer so; log it, and refuse.
        logger.warning("audio probe answered outside its protocol")
        raise UnsupportedAudio("the file could not be probed") from None
