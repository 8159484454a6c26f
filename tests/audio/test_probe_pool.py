"""ProbePool: timed-out, crashed and misbehaving workers are killed and replaced; workers are reused,
recycled after max_probes, and never more than `size` run at once."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from recordings_service.audio.probe_pool import ProbePool, ProbeTimeout, WorkerExited

# Does what each request says, the way a real worker could misbehave on a hostile file.
FAKE_WORKER = """
import json, os, signal, sys, time
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
def pool() -> Iterator[ProbePool]:
    pool = ProbePool([sys.executable, "-I", "-c", FAKE_WORKER], size=2, max_probes=3)
    yield pool
    pool.close()


def dead(pid: int) -> bool:
    """Gone, and reaped: not even a zombie is left."""
    return not Path(f"/proc/{pid}").exists()


def test_a_worker_is_reused(pool: ProbePool) -> None:
    first = pool.ask({"do": "echo"}, timeout_s=10)["pid"]
    assert pool.ask({"do": "echo"}, timeout_s=10)["pid"] == first
    assert pool.pids() == [first]


def test_a_hanging_worker_is_killed_at_the_timeout_and_replaced(pool: ProbePool) -> None:
    (old,) = {pool.ask({"do": "echo"}, timeout_s=10)["pid"]}

    started = time.monotonic()
    with pytest.raises(ProbeTimeout):
        pool.ask({"do": "hang"}, timeout_s=0.5)
    assert time.monotonic() - started < 3

    assert dead(old)
    (spare,) = pool.pids()  # started at once, so the next request does not wait for it to load
    assert spare != old
    assert pool.ask({"do": "echo"}, timeout_s=10)["pid"] == spare


@pytest.mark.parametrize(("do", "returncode"), [("crash", -signal.SIGSEGV), ("exit", 3), ("garbage", 0), ("flood", 0)])
def test_a_crashed_or_babbling_worker_is_replaced(pool: ProbePool, do: str, returncode: int) -> None:
    old = pool.ask({"do": "echo"}, timeout_s=10)["pid"]

    with pytest.raises(WorkerExited) as caught:
        pool.ask({"do": do}, timeout_s=10)

    assert caught.value.returncode == returncode
    assert dead(old)
    assert pool.ask({"do": "echo"}, timeout_s=10)["pid"] != old


def test_the_child_a_hanging_worker_forked_is_killed_with_it(pool: ProbePool, tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    with pytest.raises(ProbeTimeout):
        pool.ask({"do": "fork and hang", "pidfile": str(pidfile)}, timeout_s=2)

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


def test_a_worker_is_recycled_after_max_probes(pool: ProbePool) -> None:
    pids = [pool.ask({"do": "echo"}, timeout_s=10)["pid"] for _ in range(4)]
    assert pids[0] == pids[1] == pids[2] != pids[3]
    assert dead(pids[0])


def test_a_worker_killed_while_idle_is_never_handed_a_request(pool: ProbePool) -> None:
    old = pool.ask({"do": "echo"}, timeout_s=10)["pid"]
    os.kill(old, signal.SIGKILL)
    while Path(f"/proc/{old}/stat").read_text().split()[2] != "Z":
        time.sleep(0.01)
    assert pool.ask({"do": "echo"}, timeout_s=10)["pid"] != old


def test_concurrent_requests_share_at_most_size_workers(pool: ProbePool) -> None:
    pids: list[int] = []
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            pids.append(pool.ask({"do": "sleep"}, timeout_s=10)["pid"])
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(6)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    assert errors == []
    assert len(pids) == 6
    assert elapsed >= 3 * 0.3  # six 0.3 s requests, two at a time
    assert len(set(pids)) <= 3  # two workers, at most one of them recycled after its third request


def test_a_closed_pool_stops_its_workers(pool: ProbePool) -> None:
    old = pool.ask({"do": "echo"}, timeout_s=10)["pid"]
    pool.close()
    assert dead(old)
    with pytest.raises(RuntimeError, match="closed"):
        pool.ask({"do": "echo"}, timeout_s=10)
