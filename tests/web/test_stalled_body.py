"""A client that announces a body and stops sending it holds a web thread for CALLVAULT_BODY_STALL_S at most, not
for as long as it keeps the connection open. Found by exploratory testing of resource limits: two dozen such
connections (no credentials needed: `POST /login`) held every thread of both web workers, and /healthz went
unanswered until they closed."""

from __future__ import annotations

import socket
import time
from dataclasses import replace
from pathlib import Path

from recordings_service.config import Settings
from tests.live_server import gunicorn_serving

STALL_S = 2.0


def test_a_stalled_body_gives_its_thread_back_and_the_next_request_is_answered(
    base_settings: Settings, tmp_path: Path
) -> None:
    settings = replace(base_settings, body_stall_s=STALL_S)
    with gunicorn_serving(settings, tmp_path / "gunicorn.log", threads=1) as port:
        stalled = socket.create_connection(("127.0.0.1", port), timeout=30)
        try:
            stalled.sendall(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n")
            stalled.sendall(b"Content-Length: 100000\r\n\r\nusername=a&pass")  # and nothing more
            begun = time.monotonic()
            with socket.create_connection(("127.0.0.1", port), timeout=30) as probe:
                probe.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                answered = probe.recv(4096)
            waited = time.monotonic() - begun
        finally:
            stalled.close()

    assert answered.startswith(b"HTTP/1.1 200")
    # The only thread was the stalled body's until it gave it up: the probe waited about that long, no longer.
    assert waited < STALL_S + 10


def test_the_stalled_client_is_told_its_body_stopped_short(base_settings: Settings, tmp_path: Path) -> None:
    """Found by a deployment pass: the stalled request was answered 400 "The browser (or proxy) sent a request that
    this server could not understand", which a telephony client takes as its call refused for good, and nothing was
    logged; it is 408, to be sent again, and the log says so."""
    settings = replace(base_settings, body_stall_s=STALL_S)
    log = tmp_path / "gunicorn.log"
    with (
        gunicorn_serving(settings, log, threads=1) as port,
        socket.create_connection(("127.0.0.1", port), timeout=30) as stalled,
    ):
        stalled.sendall(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n")
        stalled.sendall(b"Content-Length: 100000\r\n\r\nusername=a&pass")
        answer = stalled.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert "request body incomplete" in log.read_text()
