"""`kill -9` of the web worker at each step of an ingest: nothing accepted is lost, nothing else remains.

The kill points are chosen with a test-only pause, not by timing: `gunicorn_pause.py` (a gunicorn `-c` file
only these tests pass) wraps the ingest's seams in the worker (after the body is spooled, after the store put,
before and after the commit). A test arms one step; the worker that reaches it stops there and the test kills
it with SIGKILL. Timing alone would land most kills in the upload or the probe and rarely between put and
commit; nothing in `web/` or `recordings_service/` knows of the pause, so production cannot enable it.

Like a telephony system, the client retries a call whose connection died; gunicorn starts a new worker.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from recordings_service.config import Settings
from recordings_service.models import Recording
from tests.factories.recordings import MONO, STEREO
from tests.faults.gunicorn_pause import CONTROL_ENV
from tests.faults.pause_points import STEPS
from tests.faults.support import Call, accepted_id, fault_world, new_call, reconcile_to_clean, send, wait_for
from tests.live_server import live_server

pytestmark = pytest.mark.slow

SEED = 16
POINTS = 20
HOOK = Path(__file__).with_name("gunicorn_pause.py")


def test_kill_9_of_the_web_worker_at_20_points_of_an_ingest_loses_nothing_accepted(
    base_settings: Settings, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    plan = [STEPS[index % len(STEPS)] for index in range(POINTS)]  # each step five times, in a seeded order
    rng.shuffle(plan)
    control = tmp_path / "control"
    control.mkdir()
    accepted: dict[str, str] = {}  # external_call_id -> recording id, from each 2xx answer
    started = time.monotonic()
    with (
        fault_world(base_settings, tmp_path) as world,
        live_server(world.settings, options=["-c", str(HOOK)], env={CONTROL_ENV: str(control)}) as server,
    ):
        for step in plan:
            call = new_call(rng.choice([STEREO, MONO]))
            (control / "armed").write_text(step)
            outcome: list[BaseException | int] = []

            def upload(call: Call = call, outcome: list[BaseException | int] = outcome) -> None:
                try:
                    outcome.append(send(server, world.token, call)[0])
                except OSError as exc:
                    outcome.append(exc)

            client = threading.Thread(target=upload)
            client.start()
            reached = wait_for(control / "reached")
            reached_step, pid = reached.read_text().split()
            reached.unlink()
            assert reached_step == step
            time.sleep(rng.uniform(0, 0.05))
            os.kill(int(pid), signal.SIGKILL)
            client.join(timeout=30)
            assert outcome and isinstance(outcome[0], OSError), f"the killed request answered {outcome}"

            # The client retries the same call: a new worker takes it, stores it once (200 if it was committed).
            status, headers = send(server, world.token, call)
            assert status == (200 if step == "committed" else 201), headers["body"]
            accepted[call.external_call_id] = accepted_id(headers)
            if len(accepted) % 4 == 1:  # now and then, a call nobody interrupted goes through as before
                untouched = new_call(MONO)
                status, headers = send(server, world.token, untouched)
                assert status == 201
                accepted[untouched.external_call_id] = accepted_id(headers)
        wall_s = time.monotonic() - started

    result = reconcile_to_clean(world)
    # Each accepted call is one row (under the id it was answered with), and there is no other row.
    with world.runtime.sessions() as session:
        rows = {call_id: id_ for call_id, id_ in session.execute(select(Recording.external_call_id, Recording.id))}
    assert rows == accepted
    # Objects put before a kill without a commit were the only orphans: kills after the put and before commit.
    assert result.first.orphans_deleted == plan.count("stored") + plan.count("before_commit")
    print(
        f"{POINTS} kills ({', '.join(f'{s}={plan.count(s)}' for s in STEPS)}), {len(accepted)} calls accepted, "
        f"{result.first.orphans_deleted} orphans and {result.spools_removed} spools removed by reconcile, "
        f"then 0 orphans / 0 missing; {wall_s:.0f} s"
    )
