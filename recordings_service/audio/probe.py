"""Audio files: probe an upload in a confined child process before anything decodes it in-process."""

from __future__ import annotations

import atexit
import logging
import math
import os
import signal
import stat
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recordings_service.audio.confine import confined_command, warn_if_unconfined
from recordings_service.audio.probe_pool import ProbePool, ProbeTimeout, WorkerExited
from recordings_service.errors import Invalid

logger = logging.getLogger(__name__)

# Loading PyAV's FFmpeg libraries maps about 130 MiB of address space before any file is read.
_MIN_MEMORY_BYTES = 256 * 1024 * 1024
# Concurrent probes per process (a gthread web worker's threads, the jobs process's pool); more wait.
POOL_SIZE = max(2, os.cpu_count() or 2)
# A worker never reads a file (a child forked for each one does), so it only bounds how long one lives.
MAX_PROBES_PER_WORKER = 1000


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
    """Opens and fully decodes `path` in a worker process capped in memory, CPU and wall time.

    The worker (`probe_worker.py`) caps its own address space before importing PyAV; `preexec_fn`
    would do the same but is unsafe in a threaded parent (gunicorn gthread workers, APScheduler's
    pool). It then confines itself (`confine`) and receives the file as a descriptor, which a child
    forked for it probes: each file meets a fresh copy of the loaded worker. Workers are started ahead
    (see `probe_pool`): one that does not answer within `timeout_s` is killed with its child, so a
    hostile file can neither hang nor exhaust the caller.
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
    request = {"max_duration_s": float(max_duration_s), "cpu_s": cpu_s}
    try:
        with path.open("rb") as source:
            answer = probe_pool(memory_limit_bytes).ask(request, timeout_s=timeout_s, fds=[source.fileno()])
    except ProbeTimeout:
        raise UnsupportedAudio(f"probing took longer than {timeout_s:g} s") from None
    except WorkerExited as exc:
        raise _refusal(exc.returncode, cpu_s=cpu_s, memory_limit_bytes=memory_limit_bytes) from None
    return _info(answer, cpu_s=cpu_s, memory_limit_bytes=memory_limit_bytes)


class _Pools:
    """The process's probe pools by memory limit (the limit is set once per worker)."""

    def __init__(self) -> None:
        self.by_memory: dict[int, ProbePool] = {}
        self.lock = threading.Lock()

    def forget_after_fork(self) -> None:
        # A forked child (a gunicorn worker forked from a master that probed) must not share its parent's
        # workers, and must not inherit a lock some other thread held at the fork.
        for pool in self.by_memory.values():
            pool.forget()
        self.by_memory = {}
        self.lock = threading.Lock()


_pools = _Pools()


def probe_pool(memory_limit_bytes: int) -> ProbePool:
    """This process's pool of probe workers for one memory limit, created on first use."""
    with _pools.lock:
        pool = _pools.by_memory.get(memory_limit_bytes)
        if pool is None:
            command = confined_command(["-m", "recordings_service.audio.probe_worker", str(memory_limit_bytes)])
            pool = ProbePool(command, size=POOL_SIZE, max_probes=MAX_PROBES_PER_WORKER)
            _pools.by_memory[memory_limit_bytes] = pool
        return pool


def close_probe_pools() -> None:
    """Stop every probe worker this process started (at exit, and in tests that count children)."""
    with _pools.lock:
        pools = list(_pools.by_memory.values())
        _pools.by_memory.clear()
    for pool in pools:
        pool.close()


atexit.register(close_probe_pools)
os.register_at_fork(after_in_child=_pools.forget_after_fork)


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


def _info(answer: dict[str, Any], *, cpu_s: int, memory_limit_bytes: int) -> AudioInfo:
    if "refused" in answer:
        raise UnsupportedAudio(str(answer["refused"]))
    if "exited" in answer:
        raise _refusal(int(answer["exited"]), cpu_s=cpu_s, memory_limit_bytes=memory_limit_bytes)
    found = answer["info"]
    return AudioInfo(
        container=str(found["container"]),
        codec=str(found["codec"]),
        sample_rate=int(found["sample_rate"]),
        channels=int(found["channels"]),
        duration_s=float(found["duration_s"]),
    )
