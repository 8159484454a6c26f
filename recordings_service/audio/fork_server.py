"""The audio worker: a confined process that has loaded FFmpeg and forks a child for every file it is given.

Run as `python -I -m recordings_service.audio.fork_server MEMORY_BYTES` with an empty environment (the pool
in `audio.workers` starts it). It caps its address space, loads PyAV and confines itself (`confine`: no file,
network or environment access). Its stdin is a UNIX socket: each request is one JSON line, `{"task": "probe"
| "decode", "cpu_s": N, ...}`, carrying three descriptors that become a child's stdin, stdout and stderr.
For each request it forks a child, which closes every other descriptor, allows itself `cpu_s` seconds of CPU
and runs the task (`probe_worker.run`, `decode_worker.run`); the worker waits for the child and answers one
line on its stdout: `{"exited": returncode}`. It never reads what a child writes, and of a file no more than a
plain WAV's chunk headers, in pure Python (`plain_wav`: such a file's probe is answered without a child), so a
file that took a child over meets neither the next file nor the caller's process, and no file pays for starting
Python and loading FFmpeg. It exits at end of input.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Callable
from typing import Any

from recordings_service.audio import decode_worker, probe_worker
from recordings_service.audio.confine import confine
from recordings_service.audio.plain_wav import plain_wav_info

TASKS: dict[str, Callable[[dict[str, Any]], int]] = {"probe": probe_worker.run, "decode": decode_worker.run}
MAX_REQUEST_BYTES = 64 * 1024
CHILD_STDIO = 3


def serve() -> None:
    """Runs each request in a child of its own until end of input."""
    requests = socket.socket(fileno=sys.stdin.fileno())
    while True:
        line, fds, _, _ = socket.recv_fds(requests, MAX_REQUEST_BYTES, CHILD_STDIO)
        if not line:
            return
        try:
            returncode = _answer(json.loads(line), fds) if len(fds) == CHILD_STDIO else 1
        finally:
            for fd in fds:
                os.close(fd)
        print(json.dumps({"exited": returncode}), flush=True)


def _answer(request: dict[str, Any], stdio: list[int]) -> int:
    return 0 if answered_in_worker(request, stdio) else _in_child(request, stdio)


def answered_in_worker(request: dict[str, Any], stdio: list[int]) -> bool:
    """A plain WAV's probe, answered on the child's stdout from its header alone; False for any other request."""
    if request.get("task") != "probe":
        return False
    try:
        info = plain_wav_info(stdio[0], max_duration_s=float(request["max_duration_s"]))
    except OSError:  # not a file that can be read at an offset (a pipe): the child reads it as a stream
        return False
    if info is None:
        return False
    os.write(stdio[1], json.dumps({"info": info}).encode())
    return True


def _in_child(request: dict[str, Any], stdio: list[int]) -> int:
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            for target, fd in enumerate(stdio):
                os.dup2(fd, target)
            os.closerange(CHILD_STDIO, os.sysconf("SC_OPEN_MAX"))
            probe_worker.limit_cpu(int(request["cpu_s"]))
            status = TASKS[str(request["task"])](request)
        finally:
            os._exit(status)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def main(argv: list[str]) -> int:
    probe_worker.limit_resources(memory_bytes=int(argv[0]))
    probe_worker.import_pyav()
    confine()
    print(json.dumps({"ready": True}), flush=True)  # worker_pool.READY: started, whatever a file then does
    serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
