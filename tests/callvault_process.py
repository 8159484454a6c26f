"""`callvault run` as a child process, as a new user starts it: their environment, start, wait until ready, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

# The console scripts installed beside this interpreter: `callvault`, and `aws` for poking the S3 port.
BIN = Path(sys.executable).parent


def callvault_env(data_dir: Path, port: int, s3_port: int, **extra: str) -> dict[str, str]:
    """The environment of a new user's shell: none of this process's CALLVAULT_* settings."""
    return {key: value for key, value in os.environ.items() if not key.startswith("CALLVAULT_")} | {
        "CALLVAULT_DATA_DIR": str(data_dir),
        "CALLVAULT_PORT": str(port),
        "CALLVAULT_S3_PORT": str(s3_port),
        **{f"CALLVAULT_{name.upper()}": value for name, value in extra.items()},
    }


def start(data_dir: Path, port: int, s3_port: int, **extra: str) -> subprocess.Popen[str]:
    env = callvault_env(data_dir, port, s3_port, **extra)
    # Output goes to a file, not a pipe nobody reads while the test runs (a full pipe would stall it).
    log = (data_dir.parent / "run.log").open("a")
    with log:
        return subprocess.Popen(
            [str(BIN / "callvault"), "run", "--workers", "1"], env=env, stdout=log, stderr=subprocess.STDOUT, text=True
        )


def wait_ready(port: int, process: subprocess.Popen[str], timeout_s: float = 60.0) -> tuple[dict[str, str], float]:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        assert process.poll() is None, "callvault run exited early"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                return json.load(response), time.monotonic() - started
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"/readyz not ready within {timeout_s:.0f} s")


def stop(process: subprocess.Popen[str], data_dir: Path) -> str:
    """Ctrl-C, then what the run printed."""
    process.send_signal(signal.SIGINT)  # what Ctrl-C delivers
    process.wait(timeout=60)
    return (data_dir.parent / "run.log").read_text()


def processes_mentioning(needle: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            environ = (entry / "environ").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if needle in cmdline or needle in environ:
            found.append(f"{entry.name}: {cmdline[:120]}")
    return found
