"""The systemd units shipped in infra/: their sandbox lets Callvault's own audio confinement run, and the web unit
starts gunicorn as `callvault run` does (the layout bench/load.py measured).

Found by exploratory testing: each unit's `SystemCallFilter=@system-service` leaves out Landlock's three system
calls, which the web and jobs processes make before they probe or decode any audio (`confine.landlock_abi`) and the
audio workers make to confine themselves; under the filter systemd kills the process (SIGSYS), so the first ingest
killed its web worker. Here the units' filter is applied to a process as systemd applies it (libseccomp: every
system call the listed groups expand to is allowed, any other kills the process) and that process probes and
decodes a call."""

from __future__ import annotations

import ctypes.util
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from web.supervisor import WEB_KEEP_ALIVE_S, WEB_THREADS, WEB_WORKERS

REPO = Path(__file__).resolve().parent.parent
UNITS = REPO / "infra" / "systemd"
AUDIO_UNITS = ["callvault-web.service", "callvault-jobs.service"]
CALL = REPO / "tests" / "data" / "call_mono.wav"

# Run in a child process: load the allow-list filter, then probe and decode a call as an ingest and a
# transcription do.
UNDER_FILTER = r"""
import ctypes, sys
from pathlib import Path
allowed = sys.argv[1].split()
seccomp = ctypes.CDLL(sys.argv[2])
seccomp.seccomp_init.restype = ctypes.c_void_p
seccomp.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
KILL_PROCESS, ALLOW = 0x80000000, 0x7FFF0000
context = ctypes.c_void_p(seccomp.seccomp_init(ctypes.c_uint32(KILL_PROCESS)))
for name in allowed:
    number = seccomp.seccomp_syscall_resolve_name(name.encode())
    if number >= 0:
        assert seccomp.seccomp_rule_add(context, ctypes.c_uint32(ALLOW), number, 0) == 0, name
assert seccomp.seccomp_load(context) == 0
from recordings_service.audio.decode import decoded_pcm
from recordings_service.audio.probe import probe_audio
info = probe_audio(Path(sys.argv[3]), max_duration_s=3600)
frames = sum(len(block) for block in decoded_pcm(Path(sys.argv[3]), duration_s=info.duration_s, rate=16000, channels=1))
print("decoded", frames)
"""


def _directives(unit: str, name: str) -> list[str]:
    lines = (UNITS / unit).read_text().replace("\\\n", " ").splitlines()
    return [line.split("=", 1)[1].strip() for line in lines if line.startswith(f"{name}=")]


def _expanded(entries: list[str]) -> set[str]:
    """The system call names that `SystemCallFilter=` lines allow, their groups expanded as systemd does."""
    names: set[str] = set()
    todo = [word for entry in entries for word in entry.split()]
    seen: set[str] = set()
    while todo:
        word = todo.pop()
        if not word.startswith("@"):
            names.add(word)
            continue
        if word in seen:
            continue
        seen.add(word)
        listing = subprocess.run(
            ["systemd-analyze", "syscall-filter", word], capture_output=True, text=True, check=True
        ).stdout
        todo += [line.strip() for line in listing.splitlines()[1:] if line.strip() and not line.strip().startswith("#")]
    return names


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze expands the syscall groups")
@pytest.mark.skipif(ctypes.util.find_library("seccomp") is None, reason="libseccomp applies the filter")
@pytest.mark.parametrize("unit", AUDIO_UNITS)
def test_a_call_is_probed_and_decoded_under_the_units_system_call_filter(unit: str) -> None:
    entries = _directives(unit, "SystemCallFilter")
    assert entries and not any(entry.startswith("~") for entry in entries), entries  # an allow-list
    allowed = _expanded(entries)
    library = ctypes.util.find_library("seccomp")
    assert library is not None
    ran = subprocess.run(
        [sys.executable, "-c", UNDER_FILTER, " ".join(sorted(allowed)), library, str(CALL)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode != -signal.SIGSYS, f"killed by the filter (SIGSYS): {ran.stderr[-2000:]}"
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert ran.stdout.startswith("decoded ") and int(ran.stdout.split()[1]) > 0


def test_the_web_unit_runs_gunicorn_as_callvault_run_does() -> None:
    [command] = _directives("callvault-web.service", "ExecStart")
    words = shlex.split(command)
    options = dict(zip(words[2::2], words[3::2], strict=False))
    assert options["--worker-class"] == "gthread"
    assert (options["--workers"], options["--threads"]) == (str(WEB_WORKERS), str(WEB_THREADS))
    assert options["--keep-alive"] == str(WEB_KEEP_ALIVE_S)
    assert options["--logger-class"] == "web.gunicorn_logs.PrivateLogger"
    assert options["--config"] == "python:web.gunicorn_hooks"
