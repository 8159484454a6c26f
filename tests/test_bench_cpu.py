"""bench.cpu: the CPU a bench attributes to each kind of process, including children a process has reaped."""

from __future__ import annotations

import subprocess
import sys

import psutil

from bench.cpu import snapshot, used_between

# Burns about 0.3 s of CPU in a child it forks and reaps, then waits to be told to exit.
BURNER = (
    "import os, sys, time\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    end = time.process_time() + 0.3\n"
    "    while time.process_time() < end: pass\n"
    "    os._exit(0)\n"
    "os.waitpid(pid, 0)\n"
    "print('burnt', flush=True)\n"
    "sys.stdin.read()\n"
)


def test_a_process_started_in_between_counts_whole_with_the_children_it_reaped() -> None:
    me = psutil.Process()

    def kind_of(process: psutil.Process) -> str:
        return "bench" if process.pid == me.pid else "burner"

    before = snapshot([me, *me.children()], kind_of)
    with subprocess.Popen(
        [sys.executable, "-c", BURNER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as burner:
        assert burner.stdout is not None and burner.stdout.readline() == "burnt\n"
        after = snapshot([me, *me.children()], kind_of)
        burner.communicate("")

    used = used_between(before, after)

    assert used["burner"] >= 0.25
    assert used["bench"] < used["burner"]
