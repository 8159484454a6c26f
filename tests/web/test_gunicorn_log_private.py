"""gunicorn, as `callvault run` starts it, logs a request it cannot parse without what the request carried. Found by
exploratory testing of the logs: "Invalid request from ip=127.0.0.1: Invalid HTTP Header: 'Authorization Bearer
cvt_…'" (a header without its colon: the whole API token) and a request line with a customer's reference in it,
each written as received, in plain text beside Callvault's structured logs."""

from __future__ import annotations

import socket
from pathlib import Path

from recordings_service.config import Settings
from tests.live_server import gunicorn_serving
from web.gunicorn_logs import MALFORMED

TOKEN = "cvt_NOCOLON-MARKER-" + "x" * 30
REF = "CUST-MARKER-7731"


def send(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(raw)
        return connection.recv(4096)


def test_malformed_requests_are_logged_without_their_contents(base_settings: Settings, tmp_path: Path) -> None:
    log = tmp_path / "gunicorn.log"
    with gunicorn_serving(base_settings, log) as port:
        no_colon = send(port, f"GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization Bearer {TOKEN}\r\n\r\n".encode())
        unencoded = send(port, f"GET /calls/?q=electricity {REF} HTTP/1.1\r\nHost: x\r\n\r\n".encode())

    assert no_colon.startswith(b"HTTP/1.1 400") and unencoded.startswith(b"HTTP/1.1 400")
    written = log.read_text()
    assert written.count(MALFORMED) == 2, written
    assert TOKEN not in written and REF not in written
