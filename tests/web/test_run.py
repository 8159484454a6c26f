"""`callvault run` (what `make run` starts) as a new user meets it: ready within 60 s, S3 locked down,
Ctrl-C leaves no process behind, and a second run reuses the data directory."""

from __future__ import annotations

import http.client
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from recordings_service.config import read_env_file
from recordings_service.storage.embedded import PORT_SPAN
from tests.callvault_process import BIN, processes_mentioning, start, stop, wait_ready
from tests.conftest import free_port_block

pytestmark = pytest.mark.slow


def listening_ports_of(pids: set[int]) -> set[int]:
    output = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    ports = set()
    for line in output.splitlines():
        if any(f"pid={pid}," in line for pid in pids):
            ports.add(int(line.split()[3].rsplit(":", 1)[1]))
    return ports


def descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, stack = set(), [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.add(child)
            stack.append(child)
    return found


def assert_idle_connection_reused(port: int, *, idle_s: float) -> None:
    """A client that pauses between two requests (a browser between clicks) gets both answered on one
    connection: gunicorn's 2 s default keep-alive closed it under such clients (bench/load.py's dropped
    connections)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/readyz")
        first = connection.getresponse()
        first.read()
        sock = connection.sock
        time.sleep(idle_s)
        connection.request("GET", "/readyz")
        second = connection.getresponse()
        second.read()
        assert (first.status, second.status) == (200, 200) and connection.sock is sock
    finally:
        connection.close()


def test_run_is_ready_locked_down_and_stops_cleanly(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    port = free_port_block(1)
    s3_port = free_port_block(PORT_SPAN)
    process = start(data_dir, port, s3_port)
    try:
        parts, seconds = wait_ready(port, process)
        assert parts == {"db": "ok", "store": "ok", "migrations": "head", "anchors": "object-lock compliance"}
        print(f"ready in {seconds:.1f} s")
        assert_idle_connection_reused(port, idle_s=3.0)
        if shutil.which("ss"):
            ports = listening_ports_of(descendants(process.pid) | {process.pid})
            assert port in ports and s3_port in ports
            assert ports <= {port} | set(range(s3_port, s3_port + PORT_SPAN)), ports
        secrets = read_env_file(data_dir / "secrets.env")
        assert oct((data_dir / "secrets.env").stat().st_mode & 0o777) == "0o600"
        aws = [str(BIN / "aws"), "--endpoint-url", f"http://127.0.0.1:{s3_port}", "--region", "us-east-1", "s3", "ls"]
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | {
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        }
        with_keys = subprocess.run(  # noqa: PLW1510 — the exit code is asserted
            aws,
            env=base_env
            | {
                "AWS_ACCESS_KEY_ID": secrets["CALLVAULT_S3_ACCESS_KEY"],
                "AWS_SECRET_ACCESS_KEY": secrets["CALLVAULT_S3_SECRET_KEY"],
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert with_keys.returncode == 0, with_keys.stderr
        assert "callvault" in with_keys.stdout
        anonymous = subprocess.run(  # noqa: PLW1510 — the exit code is asserted
            [*aws, "--no-sign-request"], env=base_env, capture_output=True, text=True, timeout=60
        )
        assert anonymous.returncode != 0
        assert "AccessDenied" in anonymous.stderr or "403" in anonymous.stderr
    finally:
        output = stop(process, data_dir)
    assert process.returncode == 0, output
    assert "First admin account created: username 'admin'" in output
    assert processes_mentioning(str(data_dir)) == []

    again = start(data_dir, port, s3_port)
    try:
        parts, _ = wait_ready(port, again)
        assert parts["migrations"] == "head"
        assert read_env_file(data_dir / "secrets.env") == secrets
    finally:
        output = stop(again, data_dir)
    assert output.count("First admin account created") == 1  # the log holds both runs: only the first made one
    assert processes_mentioning(str(data_dir)) == []
