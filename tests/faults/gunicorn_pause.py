"""gunicorn configuration for fault tests only (`-c tests/faults/gunicorn_pause.py`): installs the pause points.

The app is preloaded in the master, so a worker killed by a test is replaced by a fork in well under a second
(importing the app takes seconds on a busy machine); each new worker drops the master's pooled connections.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

CONTROL_ENV = "CALLVAULT_TEST_FAULT_DIR"

preload_app = True


def post_worker_init(worker: Any) -> None:
    from tests.faults.pause_points import install

    worker.wsgi.extensions["callvault"].engine.dispose(close=False)
    install(Path(os.environ[CONTROL_ENV]))
