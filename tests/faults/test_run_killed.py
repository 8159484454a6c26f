"""`callvault run` killed outright (an OOM kill, a container stop with a short grace), then started again.

The next start on the same data directory stops what the dead run left behind and is ready within
30 s; a port held by some other process is refused with an error naming the port and the process.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from recordings_service.storage.embedded import PORT_SPAN
from tests.callvault_process import processes_mentioning, start, stop, wait_ready
from tests.conftest import free_port_block

pytestmark = pytest.mark.slow

READY_AFTER_KILL_S = 30.0


def test_a_run_killed_with_sigkill_is_ready_again_within_30_s(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    port, s3_port = free_port_block(1), free_port_block(PORT_SPAN)
    first = start(data_dir, port, s3_port)
    try:
        wait_ready(port, first)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    assert processes_mentioning(str(data_dir)), "the killed run's children are still shutting down"

    started = time.monotonic()
    again = start(data_dir, port, s3_port)
    try:
        parts, _ = wait_ready(port, again, timeout_s=READY_AFTER_KILL_S)
        ready_s = time.monotonic() - started
        assert parts["store"] == "ok" and parts["db"] == "ok"
    finally:
        output = stop(again, data_dir)
    print(f"ready {ready_s:.1f} s after the restart of a killed run")
    assert ready_s < READY_AFTER_KILL_S
    assert "SeaweedFS exited" not in output
    assert processes_mentioning(str(data_dir)) == []


@pytest.mark.parametrize("which", ["web", "s3"])
def test_a_port_held_by_another_process_is_named(tmp_path: Path, which: str) -> None:
    data_dir = tmp_path / "var"
    port, s3_port = free_port_block(1), free_port_block(PORT_SPAN)
    held = port if which == "web" else s3_port + 3
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import socket, sys, time\n"
            "s = socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(); print('ok', flush=True)\n"
            "time.sleep(120)",
            str(held),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        run = start(data_dir, port, s3_port)
        assert run.wait(timeout=60) != 0
    finally:
        holder.kill()
        holder.wait()
    output = (data_dir.parent / "run.log").read_text()
    assert f"port {held} " in output
    assert f"pid {holder.pid} " in output
    assert "CALLVAULT_PORT" in output
    assert processes_mentioning(str(data_dir)) == []


def test_a_child_that_dies_stops_the_run_with_a_failure_exit(tmp_path: Path) -> None:
    """A container's restart policy sees the failure: the run exits non-zero, not 0 as after Ctrl-C."""
    data_dir = tmp_path / "var"
    port, s3_port = free_port_block(1), free_port_block(PORT_SPAN)
    run = start(data_dir, port, s3_port)
    try:
        wait_ready(port, run)
        jobs = [child for child in psutil.Process(run.pid).children() if child.cmdline()[1:3] == ["-m", "jobs"]]
        assert len(jobs) == 1
        jobs[0].kill()
        assert run.wait(timeout=60) != 0
    finally:
        if run.poll() is None:
            stop(run, data_dir)
    assert "exited on its own" in (data_dir.parent / "run.log").read_text()
    assert processes_mentioning(str(data_dir)) == []
