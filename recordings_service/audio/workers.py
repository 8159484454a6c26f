"""This process's audio workers (`fork_server`), one pool per memory limit, and the requests they serve."""

from __future__ import annotations

import atexit
import os
import threading
import time
from typing import Any

from recordings_service.audio.confine import confined_command
from recordings_service.audio.worker_pool import MAX_REPLY_BYTES, WorkerPool, read_pipe

# Idle workers kept per process and memory limit: a web worker's probes and waveforms, a transcription's
# two channels. More requests at once start more workers, which are stopped when done.
SPARES = max(2, os.cpu_count() or 2)
# A worker reads no more of a file than a plain WAV's chunk headers (a child forked for the file decodes it), so
# this only bounds how long one lives.
MAX_REQUESTS_PER_WORKER = 1000


class _Pools:
    def __init__(self) -> None:
        self.by_memory: dict[int, WorkerPool] = {}
        self.lock = threading.Lock()

    def forget_after_fork(self) -> None:
        # A forked child (a gunicorn worker forked from a master that probed) must not share its parent's
        # workers, and must not inherit a lock some other thread held at the fork.
        for pool in self.by_memory.values():
            pool.forget()
        self.by_memory = {}
        self.lock = threading.Lock()


_pools = _Pools()


def worker_pool(memory_limit_bytes: int) -> WorkerPool:
    """This process's pool of audio workers for one memory limit, created on first use."""
    with _pools.lock:
        pool = _pools.by_memory.get(memory_limit_bytes)
        if pool is None:
            command = confined_command(["-m", "recordings_service.audio.fork_server", str(memory_limit_bytes)])
            pool = WorkerPool(command, spares=SPARES, max_requests=MAX_REQUESTS_PER_WORKER)
            _pools.by_memory[memory_limit_bytes] = pool
        return pool


def close_worker_pools() -> None:
    """Stop every audio worker this process started (at exit, and in tests that count children)."""
    with _pools.lock:
        pools = list(_pools.by_memory.values())
        _pools.by_memory.clear()
    for pool in pools:
        pool.close()


atexit.register(close_worker_pools)
os.register_at_fork(after_in_child=_pools.forget_after_fork)


def run_task(request: dict[str, Any], *, stdin: int, memory_limit_bytes: int, timeout_s: float) -> tuple[int, bytes]:
    """Runs `request` in a child of a worker with `stdin` as its input; its exit status and what it wrote to
    stdout (one short answer), both within `timeout_s`, or `WorkerTimeout` (the child killed)."""
    deadline = time.monotonic() + timeout_s
    reader, writer = os.pipe()
    pool = worker_pool(memory_limit_bytes)
    try:
        # stderr is FFmpeg's log, discarded: a corrupt file cannot flood anything.
        with open(os.devnull, "wb") as discard, pool.started(request, fds=[stdin, writer, discard.fileno()]) as pending:
            os.close(writer)
            writer = -1
            output = read_pipe(reader, limit=MAX_REPLY_BYTES, deadline=deadline)
            answer = pending.reply(timeout_s=max(0.1, deadline - time.monotonic()))
    finally:
        os.close(reader)
        if writer >= 0:
            os.close(writer)
    return int(answer["exited"]), output
