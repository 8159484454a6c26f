"""`python -m tests.faults.job_worker sweep|build`: a jobs process that runs one job as `python -m jobs` does, with
the fault tests' pause points when CALLVAULT_TEST_FAULT_DIR is set (see pause_points.py).

`sweep` runs the daily retention job once (`sweep_retention`: the sweep, then the proof) in batches of
CALLVAULT_TEST_SWEEP_BATCH recordings. `build` runs the research build job until no batch is left to build,
recording its progress after every call (so a kill finds progress committed part-way) under a lease of
CALLVAULT_TEST_BUILD_LEASE_S seconds.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from jobs import research, retention
from recordings_service.config import Settings
from recordings_service.runtime import Runtime
from tests.faults.gunicorn_pause import CONTROL_ENV
from tests.faults.pause_points import install_build, install_sweep

SWEEP_BATCH_ENV = "CALLVAULT_TEST_SWEEP_BATCH"
BUILD_LEASE_ENV = "CALLVAULT_TEST_BUILD_LEASE_S"


def main(job: str) -> None:
    runtime = Runtime.from_settings(Settings.from_env())
    control = Path(os.environ[CONTROL_ENV]) if CONTROL_ENV in os.environ else None
    if job == "sweep":
        retention.BATCH = int(os.environ.get(SWEEP_BATCH_ENV, retention.BATCH))
        if control is not None:
            install_sweep(control)
        retention.sweep_retention(runtime)
    elif job == "build":
        research.RECORD_EVERY_S = 0.0
        if control is not None:
            install_build(control)
        research.build_batches(runtime, lease_s=float(os.environ.get(BUILD_LEASE_ENV, research.LEASE_S)))
    else:
        raise SystemExit(f"unknown job {job!r}")


if __name__ == "__main__":
    main(sys.argv[1])
