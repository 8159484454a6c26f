"""A pool of long-lived probe worker processes, so that a probe does not pay for starting Python and
loading FFmpeg (about 0.1 s of CPU) on every upload.

Each worker (`probe_worker.py`) caps its own address space once, at start, and then answers one JSON
request per line. What cannot be capped once per process is enforced here, per request: a worker that
does not answer within the request's wall-clock timeout is killed with its process group (the child it
forked for the file) and replaced, and so is one that crashed, broke the protocol or served `max_probes`
requests. Replacements are started at once, so they load FFmpeg while the pool waits for the next upload.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Sequence
from typing import Any

logger = logging.getLogger(__name__)

# A reply is one short JSON line; more than this means the worker is not speaking the protocol.
MAX_REPLY_BYTES = 64 * 1024


class ProbeTimeout(Exception):
    """The worker did not answer in time; it has been killed."""


class WorkerExited(Exception):
    """The worker died (or broke the protocol) before answering; `returncode` says how it ended."""

    def __init__(self, returncode: int) -> None:
        super().__init__(f"probe worker exited with {returncode}")
        self.returncode = returncode


class _Worker:
    def __init__(self, command: Sequence[str]) -> None:
        # Requests go over a UNIX socket so that each can carry the file it names as a descriptor: a
        # confined worker cannot open a path. It reads the socket as its stdin.
        self.requests, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.process = subprocess.Popen(
                command,
                stdin=theirs.fileno(),
                stdout=subprocess.PIPE,
                # FFmpeg logs to stderr; discarding it means a corrupt file cannot flood the caller's memory.
                stderr=subprocess.DEVNULL,
                env={},
                cwd="/",
                start_new_session=True,  # a group of its own, so that `stop` reaches what it forked
            )
        except BaseException:
            self.requests.close()
            raise
        finally:
            theirs.close()
        self.probes = 0

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def ask(self, request: dict[str, Any], *, timeout_s: float, fds: Sequence[int] = ()) -> dict[str, Any]:
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout_s
        self.probes += 1
        try:
            socket.send_fds(self.requests, [json.dumps(request).encode() + b"\n"], list(fds), socket.MSG_NOSIGNAL)
        except (BrokenPipeError, ConnectionResetError):
            raise WorkerExited(self._returncode(deadline)) from None
        fd = self.process.stdout.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        reply = b""
        while not reply.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not poller.poll(remaining * 1000):
                raise ProbeTimeout
            chunk = os.read(fd, MAX_REPLY_BYTES)
            if not chunk:
                raise WorkerExited(self._returncode(deadline))
            reply += chunk
            if len(reply) > MAX_REPLY_BYTES:
                raise WorkerExited(0)
        try:
            answer = json.loads(reply)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise WorkerExited(0)
        return answer

    def _returncode(self, deadline: float) -> int:
        try:
            return self.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise ProbeTimeout from None

    def stop(self) -> None:
        """Kill and reap the worker and whatever it forked; an idle worker has nothing worth finishing."""
        with contextlib.suppress(ProcessLookupError):  # the whole group is gone already
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.close_pipes()

    def close_pipes(self) -> None:
        self.requests.close()
        if self.process.stdout is not None:
            self.process.stdout.close()


class ProbePool:
    """Up to `size` workers started with `command`; thread-safe, one per process and memory limit."""

    def __init__(self, command: Sequence[str], *, size: int, max_probes: int) -> None:
        self._command = list(command)
        self._size = size
        self._max_probes = max_probes
        self._changed = threading.Condition()
        self._idle: list[_Worker] = []
        self._busy = 0
        self._closed = False

    def ask(self, request: dict[str, Any], *, timeout_s: float, fds: Sequence[int] = ()) -> dict[str, Any]:
        """Send `request` and `fds` (the files it is about) to a free worker; waiting for one is not timed."""
        worker = self._acquire()
        keep = False
        try:
            answer = worker.ask(request, timeout_s=timeout_s, fds=fds)
            keep = worker.probes < self._max_probes
            return answer
        finally:
            self._release(worker, keep=keep)

    def pids(self) -> list[int]:
        """The idle workers' process ids (for tests and diagnostics)."""
        with self._changed:
            return [worker.pid for worker in self._idle]

    def close(self) -> None:
        """Stop the idle workers; busy ones are stopped when their request ends."""
        with self._changed:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()

    def forget(self) -> None:
        """In a forked child: drop the parent's workers without touching them, closing only our pipe ends,
        so that a worker still sees end-of-input when its real owner exits."""
        for worker in self._idle:
            worker.close_pipes()
        self._idle = []
        self._busy = 0
        self._changed = threading.Condition()
        self._closed = True

    def _spare(self) -> _Worker | None:
        """A replacement started now, so that it loads FFmpeg while idle rather than during a probe."""
        try:
            return _Worker(self._command)
        except OSError:
            # Out of processes or file descriptors: the next probe tries again and reports it.
            logger.warning("could not start a spare probe worker", exc_info=True)
            return None

    def _acquire(self) -> _Worker:
        with self._changed:
            while True:
                if self._closed:
                    raise RuntimeError("the probe pool is closed")
                while self._idle:
                    worker = self._idle.pop()
                    if worker.alive():
                        self._busy += 1
                        return worker
                    worker.stop()  # died while idle (killed from outside): never hand it a file
                if self._busy < self._size:
                    self._busy += 1
                    break
                self._changed.wait()
        try:
            return _Worker(self._command)
        except BaseException:
            with self._changed:
                self._busy -= 1
                self._changed.notify()
            raise

    def _release(self, worker: _Worker, *, keep: bool) -> None:
        replacement: _Worker | None = None
        if not keep:
            worker.stop()
            if not self._closed:
                replacement = self._spare()
        with self._changed:
            self._busy -= 1
            spare = worker if keep else replacement
            if spare is not None and not self._closed:
                self._idle.append(spare)
                spare = None
            self._changed.notify()
        if spare is not None:
            spare.stop()
