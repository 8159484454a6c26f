"""What `callvault run` settles before it starts anything.

A `callvault run` killed with SIGKILL (an OOM kill, a container stop with a short grace) leaves its
children orphaned: each got SIGTERM through PR_SET_PDEATHSIG, and SeaweedFS takes up to 12 s to shut
down (or, seen once, ignores it). A restart on the same data directory stops those leftovers itself
rather than failing on their ports. Any other process holding a port is named in the error, so the
operator knows what to stop or which setting to change.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from pathlib import Path

import psutil

from recordings_service.storage.embedded import PORT_SPAN, weed_dir_argument

# The leftovers already have their SIGTERM; this is how long their clean shutdown may still take.
LEFTOVER_GRACE_S = 15.0


class PortsBusy(RuntimeError):
    pass


def stop_leftovers(data_dir: Path, *, store_dir: Path, grace_s: float = LEFTOVER_GRACE_S) -> list[int]:
    """Stop the orphaned processes of an earlier run on `data_dir`; refuse while that run still lives.

    The run's processes are recognised by what it starts: the embedded SeaweedFS by its `-dir=` argument
    (exactly: the servers of a SeaweedFS cluster kept elsewhere under the data directory, as infra/README.md
    keeps its rehearsal in var/cluster, are not the run's), web and jobs by their command line and
    CALLVAULT_DATA_DIR in their environment.
    One whose parent is still a `callvault run` belongs to a live run; the others are orphans, stopped
    with their descendants. Returns the pids stopped.
    """
    ours = {psutil.Process().pid, *(parent.pid for parent in psutil.Process().parents())}
    members = [
        process
        for process in psutil.process_iter()
        if process.pid not in ours and _of_run(process, data_dir, store_dir)
    ]
    member_pids = {process.pid for process in members}
    doomed: list[psutil.Process] = []
    for process in members:
        try:
            parent = process.parent()
        except psutil.NoSuchProcess:
            continue
        if parent is not None and parent.pid in member_pids:
            continue  # stopped with its parent
        if parent is not None and parent.pid not in ours and _is_supervisor(parent):
            raise PortsBusy(
                f"another `callvault run` (pid {parent.pid}) is using the data directory {data_dir}; stop it first"
            )
        doomed.append(process)
        with contextlib.suppress(psutil.NoSuchProcess):
            doomed.extend(process.children(recursive=True))
    for process in doomed:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.terminate()
    _, still_alive = psutil.wait_procs(doomed, timeout=grace_s)
    for process in still_alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    psutil.wait_procs(still_alive, timeout=5)
    return sorted(process.pid for process in doomed)


def embedded_store_ports(s3_port: int) -> dict[int, str]:
    """The ports the embedded SeaweedFS listens on, from its first, named for a refusal."""
    return {s3_port + offset: "embedded SeaweedFS" for offset in range(PORT_SPAN)}


def check_ports_free(ports: Mapping[int, str], *, wait_s: float) -> None:
    """Every port free on 127.0.0.1, or an error naming each busy port, its use and the process holding it.

    A port a just-stopped process held may stay in use for a moment after it exits, so a busy port
    is looked at again for up to `wait_s`.
    """
    deadline = time.monotonic() + wait_s
    while True:
        busy = {port: holder for port, holder in _listeners().items() if port in ports}
        if not busy or time.monotonic() >= deadline:
            break
        time.sleep(0.25)
    if busy:
        # One line per holder: SeaweedFS's eight ports held by one process named it eight times over.
        held: dict[tuple[int | None, str], list[str]] = {}
        for port, pid in sorted(busy.items()):
            held.setdefault((pid, ports[port]), []).append(str(port))
        lines = [
            f"{'ports' if len(numbers) > 1 else 'port'} {', '.join(numbers)} ({use}) "
            f"{'are' if len(numbers) > 1 else 'is'} in use by {_describe(pid)}"
            for (pid, use), numbers in held.items()
        ]
        advice = "Stop that process or choose other ports (CALLVAULT_PORT, CALLVAULT_S3_PORT)."
        raise PortsBusy(f"{'; '.join(lines)}. {advice}")


def _of_run(process: psutil.Process, data_dir: Path, store_dir: Path) -> bool:
    try:
        command = process.cmdline()
        if weed_dir_argument(store_dir) in command:
            return True
        started_by_run = "web.wsgi:app" in command or command[1:3] == ["-m", "jobs"]
        return started_by_run and process.environ().get("CALLVAULT_DATA_DIR") == str(data_dir)
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def _is_supervisor(process: psutil.Process) -> bool:
    try:
        command = process.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
    return any(Path(part).name == "callvault" for part in command[:2]) and "run" in command


def _listeners() -> dict[int, int | None]:
    """Each TCP port something listens on (IPv4 or IPv6, any address), with the holder's pid when visible."""
    found: dict[int, int | None] = {}
    for connection in psutil.net_connections(kind="tcp"):
        if connection.status == psutil.CONN_LISTEN and connection.laddr:
            found.setdefault(connection.laddr.port, connection.pid)
    return found


def _describe(pid: int | None) -> str:
    if pid is None:
        return "a process this user cannot see"
    try:
        process = psutil.Process(pid)
        command = " ".join(process.cmdline())[:120] or process.name()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return f"pid {pid}"
    return f"pid {pid} ({command})"
