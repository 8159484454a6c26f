"""A pool of long-lived audio worker processes (`fork_server.py`), so that probing or decoding a file does not
pay for starting Python and loading FFmpeg (about 0.1 s of CPU) every time.

Each worker caps its own address space once, at start, and then answers one JSON line per request. What
cannot be capped once per process is enforced here: a request that is not answered in time, or that its
caller abandons, has its worker killed with the worker's process group (the child it forked for the file),
and so has a worker that crashed, broke the protocol or served `max_requests` requests. A request never
waits for a worker: with none idle a new one starts, and up to `spares` idle ones are kept, the replacement
of a killed one started at once so that it loads FFmpeg while the pool waits for the next file.
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
from collections.abc import Iterator, Sequence
from typing import Any

from recordings_service.errors import Unavailable

logger = logging.getLogger(__name__)

# A reply is one short JSON line; more than this means the worker is not speaking the protocol.
MAX_REPLY_BYTES = 64 * 1024
# What a worker says once it has started and confined itself, before it reads its first request.
READY = b'{"ready": true}\n'


class WorkerUnavailable(Unavailable):
    """The worker ended before it said it was ready: it could not start (FFmpeg or Python missing, refused its
    confinement), which no file caused. A file was refused as "could not be probed" for it, and a telephony system
    takes such a 422 as its call refused for good."""

    def __init__(self, returncode: int | None) -> None:
        super().__init__(f"audio decoding is unavailable: the audio worker did not start (exit status {returncode})")


class WorkerTimeout(Exception):
    """The worker did not answer in time; it has been killed."""


class WorkerExited(Exception):
    """The worker died (or broke the protocol) before answering; `returncode` says how it ended."""

    def __init__(self, returncode: int) -> None:
        super().__init__(f"audio worker exited with {returncode}")
        self.returncode = returncode


def read_pipe(fd: int, *, limit: int, deadline: float, through_newline: bool = False) -> bytes:
    """What a pipe carries until its writers close it, or with `through_newline` until a line ends: at most
    `limit` bytes, by `deadline` (monotonic)."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    data = b""
    while not (through_newline and data.endswith(b"\n")):
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not poller.poll(remaining * 1000):
            raise WorkerTimeout
        chunk = os.read(fd, limit + 1 - len(data))
        if not chunk:
            return data
        data += chunk
        if len(data) > limit:
            raise WorkerExited(0)
    return data


class _Worker:
    def __init__(self, command: Sequence[str]) -> None:
        # Requests go over a UNIX socket so that each can carry the descriptors it is about: a confined
        # worker cannot open a path. It reads the socket as its stdin.
        self.command = " ".join(command)
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
        self.requests_served = 0
        self.ready = False
        self._received = b""  # what was read of the worker's output past the line asked for

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def send(self, request: dict[str, Any], fds: Sequence[int]) -> None:
        self.requests_served += 1
        try:
            socket.send_fds(self.requests, [json.dumps(request).encode() + b"\n"], list(fds), socket.MSG_NOSIGNAL)
        except (BrokenPipeError, ConnectionResetError):
            returncode = self._returncode(time.monotonic() + 10)
            raise (WorkerExited(returncode) if self.ready else self._not_started(returncode)) from None

    def reply(self, *, timeout_s: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        if not self.ready:
            if self._line(deadline) != READY:
                raise self._not_started(self._returncode(deadline))
            self.ready = True
        reply = self._line(deadline)
        if not reply.endswith(b"\n"):
            raise WorkerExited(self._returncode(deadline))
        try:
            answer = json.loads(reply)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise WorkerExited(0)
        return answer

    def _not_started(self, returncode: int) -> WorkerUnavailable:
        # Its stderr is discarded (a corrupt file's FFmpeg output could flood it): the operator runs the command.
        logger.error("audio worker did not start", extra={"returncode": returncode, "command": self.command})
        return WorkerUnavailable(returncode)

    def _line(self, deadline: float) -> bytes:
        """The worker's next line (without its newline only where the worker ended first)."""
        assert self.process.stdout is not None
        while b"\n" not in self._received:
            limit = MAX_REPLY_BYTES - len(self._received)
            chunk = read_pipe(self.process.stdout.fileno(), limit=limit, deadline=deadline, through_newline=True)
            if not chunk:
                break
            self._received += chunk
        line, newline, self._received = self._received.partition(b"\n")
        return line + newline

    def _returncode(self, deadline: float) -> int:
        try:
            return self.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise WorkerTimeout from None

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


class Pending:
    """A request sent to a worker; `reply` waits for its answer."""

    def __init__(self, worker: _Worker) -> None:
        self._worker = worker
        self.answered = False

    def reply(self, *, timeout_s: float) -> dict[str, Any]:
        answer = self._worker.reply(timeout_s=timeout_s)
        self.answered = True
        return answer


class WorkerPool:
    """Workers started with `command`; thread-safe, one per process and memory limit."""

    def __init__(self, command: Sequence[str], *, spares: int, max_requests: int) -> None:
        self._command = list(command)
        self._spares = spares
        self._max_requests = max_requests
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._closed = False

    @contextlib.contextmanager
    def started(self, request: dict[str, Any], *, fds: Sequence[int] = ()) -> Iterator[Pending]:
        """Send `request` and `fds` to an idle (or new) worker. Unless the caller has its reply when the block
        ends, the worker is killed with what it forked: an abandoned request leaves nothing running."""
        worker = self._acquire()
        pending = Pending(worker)
        try:
            worker.send(request, fds)
            yield pending
        finally:
            self._release(worker, keep=pending.answered and worker.requests_served < self._max_requests)

    def pids(self) -> list[int]:
        """The idle workers' process ids (for tests and diagnostics)."""
        with self._lock:
            return [worker.pid for worker in self._idle]

    def close(self) -> None:
        """Stop the idle workers; busy ones are stopped when their request ends."""
        with self._lock:
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
        self._lock = threading.Lock()
        self._closed = True

    def _acquire(self) -> _Worker:
        with self._lock:
            if self._closed:
                raise RuntimeError("the audio worker pool is closed")
            while self._idle:
                worker = self._idle.pop()
                if worker.alive():
                    return worker
                worker.stop()  # died while idle (killed from outside): never hand it a file
        return _Worker(self._command)

    def _release(self, worker: _Worker, *, keep: bool) -> None:
        if not keep:
            worker.stop()
            spare = self._spare()
            if spare is None:
                return
            worker = spare
        with self._lock:
            if not self._closed and len(self._idle) < self._spares:
                self._idle.append(worker)
                return
        worker.stop()

    def _spare(self) -> _Worker | None:
        """A replacement started now, so that it loads FFmpeg while idle rather than during a request."""
        with self._lock:
            if self._closed or len(self._idle) >= self._spares:
                return None
        try:
            return _Worker(self._command)
        except OSError:
            # Out of processes or file descriptors: the next request tries again and reports it.
            logger.warning("could not start a spare audio worker", exc_info=True)
            return None
