"""Striking a jobs process at an armed pause point (pause_points.py) with SIGKILL, as an OOM kill would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import postgres_url_or_skip
from tests.faults.support import REPO


def database_kind() -> str:
    """PostgreSQL where it is reachable (always under CI), else SQLite."""
    try:
        postgres_url_or_skip()
    except pytest.skip.Exception:
        return "sqlite"
    return "postgresql"


def strike(control: Path, job: str, env: dict[str, str], armed: str, *, timeout_s: float = 90) -> bool:
    """Start `python -m tests.faults.job_worker <job>` armed at `armed` (`step@N`) and SIGKILL it there; False if
    it finished its work (exit 0) without reaching that point."""
    (control / "armed").write_text(armed)
    worker = run_job(job, env, log=control / f"{job}.log")
    reached = control / "reached"
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            if reached.exists():
                step, pid = reached.read_text().split()
                assert (step, int(pid)) == (armed, worker.pid)
                os.kill(worker.pid, signal.SIGKILL)
                assert worker.wait(timeout=30) == -signal.SIGKILL
                reached.unlink()
                return True
            if worker.poll() is not None:
                assert worker.returncode == 0, f"the {job} worker failed ({worker.returncode})"
                (control / "armed").unlink(missing_ok=True)
                return False
            time.sleep(0.01)
        raise AssertionError(f"the {job} worker neither reached {armed} nor finished")
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def run_job(job: str, env: dict[str, str], *, log: Path) -> subprocess.Popen[bytes]:
    """The worker, its output appended to `log`."""
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.faults.job_worker", job], cwd=REPO, env=env, stdout=output, stderr=output
        )
