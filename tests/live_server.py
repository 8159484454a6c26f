"""A real web server (gunicorn running `web.wsgi:app`) for tests and benchmarks that need one, and a
streaming multipart body so large uploads never sit in the client's memory either."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from recordings_service.config import PREFIX, Settings

REPO = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
CHUNK = 1024 * 1024


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def settings_env(settings: Settings) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(PREFIX)}
    for spec in fields(settings):
        value = getattr(settings, spec.name)
        env[PREFIX + spec.name.upper()] = str(value).lower() if isinstance(value, bool) else str(value)
    return env


@dataclass
class LiveServer:
    process: subprocess.Popen[bytes]
    port: int

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(pid) for pid in children]

    def kill_workers(self) -> list[int]:
        """SIGKILL every worker; returns their pids (gunicorn may replace them before anyone looks again)."""
        killed = self.workers()
        for pid in killed:
            os.kill(pid, signal.SIGKILL)
        return killed

    def connection(self, timeout: float = 600) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)


@contextmanager
def live_server(
    settings: Settings,
    *,
    workers: int = 1,
    threads: int = 1,
    options: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> Iterator[LiveServer]:
    """gunicorn on `web.wsgi:app`; `options` are more gunicorn flags, `env` more environment variables."""
    port = free_port()
    command = [
        str(GUNICORN),
        *options,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--timeout",
        "600",
        "web.wsgi:app",
    ]
    process = subprocess.Popen(
        command, cwd=REPO, env=settings_env(settings) | dict(env or {}), stderr=subprocess.DEVNULL
    )
    server = LiveServer(process, port)
    try:
        _wait_until_up(server)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(server: LiveServer) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError("the web server exited during start-up")
        try:
            connection = server.connection(timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the web server did not answer /healthz within 60 s")


class MultipartBody:
    """multipart/form-data with a JSON `metadata` part and an `audio` file part streamed from disk."""

    def __init__(self, audio: Path, metadata: dict[str, Any]) -> None:
        self.boundary = "cv" + secrets.token_hex(16)
        self.audio = audio
        self.head = (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n'
            f"Content-Type: application/json\r\n\r\n{json.dumps(metadata)}\r\n"
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="audio"; filename="{audio.name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        self.tail = f"\r\n--{self.boundary}--\r\n".encode()

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return len(self.head) + self.audio.stat().st_size + len(self.tail)

    def chunks(self, *, limit: int | None = None) -> Iterator[bytes]:
        """The body, or only its first `limit` bytes (a client that dies mid-upload)."""
        sent = 0
        for piece in self._pieces():
            if limit is not None and sent + len(piece) >= limit:
                yield piece[: limit - sent]
                return
            sent += len(piece)
            yield piece

    def _pieces(self) -> Iterator[bytes]:
        yield self.head
        with self.audio.open("rb") as source:
            while chunk := source.read(CHUNK):
                yield chunk
        yield self.tail


def post_recording(
    server: LiveServer, token: str, body: MultipartBody, *, timeout: float = 600
) -> tuple[int, dict[str, Any]]:
    status, _, payload = send_recording(server, token, body, timeout=timeout)
    return status, json.loads(payload or b"{}")


def send_recording(
    server: LiveServer, token: str, body: MultipartBody, *, timeout: float = 600
) -> tuple[int, dict[str, str], bytes]:
    """POST a call to the ingest API: the status, the response headers (lower-case names) and the body."""
    connection = server.connection(timeout=timeout)
    try:
        connection.request(
            "POST",
            "/api/v1/recordings",
            body=body.chunks(),
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": body.content_type,
                "Content-Length": str(len(body)),
            },
        )
        response = connection.getresponse()
        payload = response.read()
        return response.status, {name.lower(): value for name, value in response.getheaders()}, payload
    finally:
        connection.close()


@contextmanager
def gunicorn_serving(settings: Settings, log: Path, *, workers: int = 1, threads: int = 1) -> Iterator[int]:
    """gunicorn with `callvault run`'s options on a free port of its own (yielded), answering /healthz; its
    output in `log`."""
    from web.supervisor import WEB_OPTIONS

    port = free_port()
    command = [str(GUNICORN), *WEB_OPTIONS, "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    with log.open("w") as output:
        process = subprocess.Popen(
            [*command, "--threads", str(threads), "web.wsgi:app"],
            cwd=REPO,
            env=settings_env(settings),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while not _answers_health(port):
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def _answers_health(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            return connection.recv(4096).startswith(b"HTTP/1.1 200")
    except OSError:
        return False
