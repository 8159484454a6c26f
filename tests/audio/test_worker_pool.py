"""WorkerPool: timed-out, abandoned, crashed and misbehaving workers are killed with what they forked and
replaced; workers are reused and recycled after max_requests; a request never waits for a worker, and at most
`spares` idle ones are kept."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from recordings_service.audio.worker_pool import WorkerExited, WorkerPool, WorkerTimeout, WorkerUnavailable

# Does what each request says, the way a real worker could misbehave on a hostile file.
FAKE_WORKER = """
import json, os, signal, sys, time
print(json.dumps({"ready": True}), flush=True)
while line := sys.stdin.buffer.readline():
    do = json.loads(line)["do"]
    if do == "hang":
        time.sleep(600)
    elif do == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    elif do == "exit":
        sys.exit(3)
    elif do == "garbage":
        print("Traceback (most recent call last):", flush=True)
    elif do == "flood":
        sys.stdout.write("x" * 1_000_000)
        sys.stdout.flush()
    elif do == "sleep":
        time.sleep(0.3)
    elif do == "fork and hang":  # as a real worker forks a child to probe the file
        if os.fork() == 0:
            open(json.loads(line)["pidfile"], "w").write(str(os.getpid()))
            time.sleep(600)
        os.wait()
    print(json.dumps({"pid": os.getpid()}), flush=True)
"""


@pytest.fixture
def pool() -> Iterator[WorkerPool]:
    pool = WorkerPool([sys.executable, "-I", "-c", FAKE_WORKER], spares=2, max_requests=3)
    yield pool
    pool.close()


def ask(pool: WorkerPool, request: dict[str, Any], *, timeout_s: float = 10) -> dict[str, Any]:
    with pool.started(request) as pending:
        return pending.reply(timeout_s=timeout_s)


def dead(pid: int) -> bool:
    """Gone, and reaped: not even a zombie is left."""
    return not Path(f"/proc/{pid}").exists()


def test_a_worker_is_reused(pool: WorkerPool) -> None:
    first = ask(pool, {"do": "echo"}, timeout_s=10)["pid"]
    assert ask(pool, {"do": "echo"}, timeout_s=10)["pid"] == first
    assert pool.pids() == [first]


def test_a_hanging_worker_is_killed_at_the_timeout_and_replaced(pool: WorkerPool) -> None:
    (old,) = {ask(pool, {"do": "echo"}, timeout_s=10)["pid"]}

    started = time.monotonic()
    with pytest.raises(WorkerTimeout):
        ask(pool, {"do": "hang"}, timeout_s=0.5)
    assert time.monotonic() - started < 3

    assert dead(old)
    (spare,) = pool.pids()  # started at once, so the next request does not wait for it to load
    assert spare != old
    assert ask(pool, {"do": "echo"}, timeout_s=10)["pid"] == spare


@pytest.mark.parametrize(("do", "returncode"), [("crash", -signal.SIGSEGV), ("exit", 3), ("garbage", 0), ("flood", 0)])
def test_a_crashed_or_babbling_worker_is_replaced(pool: WorkerPool, do: str, returncode: int) -> None:
    old = ask(pool, {"do": "echo"}, timeout_s=10)["pid"]

    with pytest.raises(WorkerExited) as caught:
        ask(pool, {"do": do}, timeout_s=10)

    assert caught.value.returncode == returncode
    assert dead(old)
    assert ask(pool, {"do": "echo"}, timeout_s=10)["pid"] != old


def test_the_child_a_hanging_worker_forked_is_killed_with_it(pool: WorkerPool, tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    with pytest.raises(WorkerTimeout):
        ask(pool, {"do": "fork and hang", "pidfile": str(pidfile)}, timeout_s=2)

    child = int(pidfile.read_text())
    deadline = time.monotonic() + 10
    while not killed(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert killed(child)


def killed(pid: int) -> bool:
    """Not running: gone, or a zombie waiting for whoever adopted it (init, or a subreaper) to reap it."""
    try:
        return "State:\tZ" in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True


def test_a_worker_is_recycled_after_max_requests(pool: WorkerPool) -> None:
    pids = [ask(pool, {"do": "echo"}, timeout_s=10)["pid"] for _ in range(4)]
    assert pids[0] == pids[1] == pids[2] != pids[3]
    assert dead(pids[0])


def test_a_worker_killed_while_idle_is_never_handed_a_request(pool: WorkerPool) -> None:
    old = ask(pool, {"do": "echo"}, timeout_s=10)["pid"]
    os.kill(old, signal.SIGKILL)
    while Path(f"/proc/{old}/stat").read_text().split()[2] != "Z":
        time.sleep(0.01)
    assert ask(pool, {"do": "echo"}, timeout_s=10)["pid"] != old


def test_concurrent_requests_never_wait_and_at_most_spares_idle_workers_are_kept(pool: WorkerPool) -> None:
    pids: list[int] = []
    errors: list[BaseException] = []
    # Each request holds its worker until all six are in flight: with a request only 0.3 s long, one that finished
    # before a slow thread asked (a busy CI machine) rightly gave its worker back, and the test took that for waiting.
    all_in_flight = threading.Barrier(6)

    def one() -> None:
        try:
            with pool.started({"do": "sleep"}) as pending:
                all_in_flight.wait(timeout=60)
                pids.append(pending.reply(timeout_s=10)["pid"])
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(pids)) == 6, "six requests at once, six workers: none waited for another"
    kept = pool.pids()
    assert len(kept) == 2 and set(kept) <= set(pids)
    assert all(dead(pid) for pid in set(pids) - set(kept))


def test_a_request_left_without_its_reply_kills_the_worker(pool: WorkerPool, tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    before = set(psutil.Process().children())
    with pool.started({"do": "fork and hang", "pidfile": str(pidfile)}):
        deadline = time.monotonic() + 10
        while not pidfile.exists() or not pidfile.read_text():
            assert time.monotonic() < deadline
            time.sleep(0.01)
        (busy,) = set(psutil.Process().children()) - before
    assert dead(busy.pid)
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 10
    while not killed(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert killed(child), "what the worker forked went with it"


def test_a_closed_pool_stops_its_workers(pool: WorkerPool) -> None:
    old = ask(pool, {"do": "echo"}, timeout_s=10)["pid"]
    pool.close()
    assert dead(old)
    with pytest.raises(RuntimeError, match="closed"):
        ask(pool, {"do": "echo"})


def test_a_worker_that_cannot_start_is_an_outage_not_a_refused_file(tmp_path: Path) -> None:
    """Found by a deployment pass: audio workers that exited at start (they could not import their code) made every
    upload a 422 "the file could not be probed", which a telephony system takes as its call refused for good."""
    broken = WorkerPool([sys.executable, "-I", "-c", "import sys; sys.exit(1)"], spares=1, max_requests=3)
    try:
        with pytest.raises(WorkerUnavailable) as raised:
            ask(broken, {"do": "nothing"})
        assert "did not start" in raised.value.message
    finally:
        broken.close()
