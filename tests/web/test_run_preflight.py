"""What `callvault run` stops before it starts: only what an earlier run on its data directory left behind."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psutil

from recordings_service.config import Settings
from recordings_service.storage.embedded import weed_dir_argument
from web import run_preflight

SLEEPER = "import time; time.sleep(120)"


def test_a_seaweedfs_cluster_kept_under_the_data_directory_is_not_taken_for_a_leftover(tmp_path: Path) -> None:
    """infra/README.md keeps its rehearsal cluster in var/cluster, inside the run's default data directory: the
    run stops the embedded `weed` an earlier run left there, and none of the cluster it is about to use."""
    settings = Settings(data_dir=tmp_path / "var")
    # Stand-ins with the command lines that matter: a cluster's volume server and an earlier run's `weed mini`.
    volume = subprocess.Popen([sys.executable, "-c", SLEEPER, f"-dir={settings.data_dir}/cluster/volume1"])
    leftover = subprocess.Popen([sys.executable, "-c", SLEEPER, weed_dir_argument(settings.store_dir)])
    try:
        for process in (volume, leftover):
            _wait_until_executed(process)
        stopped = run_preflight.stop_leftovers(settings.data_dir, store_dir=settings.store_dir, grace_s=5)

        assert stopped == [leftover.pid]
        assert leftover.wait(timeout=5) is not None
        assert volume.poll() is None
    finally:
        for process in (volume, leftover):
            process.kill()
            process.wait()


def _wait_until_executed(process: subprocess.Popen[bytes]) -> None:
    """Until the child runs its own command line: before its exec it still shows pytest's, and a busy machine (a
    full suite beside other work) once had the preflight scan the processes in that moment and find no leftover."""
    deadline = time.monotonic() + 30
    while psutil.Process(process.pid).cmdline() != process.args:
        assert time.monotonic() < deadline, "the stand-in never started"
        time.sleep(0.01)
