"""A partner's download that breaks off is audited with the bytes that went out, not the bytes asked for.

Found by review: `batch.downloaded` was written before the first byte, with the size of the answer, so a
connection that broke after a megabyte read as the whole package taken. Here a real web server (gunicorn) sends a
package too large to sit in the connection's buffers to a client that reads a megabyte and resets the
connection; the server is a single synchronous worker, so once it answers the next request the broken answer has
been closed and recorded. The batch's `downloads` counts it only once a resume has sent the rest of the package."""

from __future__ import annotations

import io
import os
import socket
import struct
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from recordings_service import schema
from recordings_service.config import Settings
from recordings_service.db import make_engine, make_sessionmaker
from recordings_service.models import ResearchBatch
from recordings_service.research.package import seal_package
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from recordings_service.tokens import create_token
from tests.factories.accounts import SYSTEM, make_user
from tests.factories.audit import events
from tests.factories.research import as_ready, draft, institute, partner
from tests.live_server import LiveServer, live_server

PACKAGE_BYTES = 16 * 1024 * 1024  # four times what the server's send and the client's receive buffers hold
READ_BYTES = 1024 * 1024


def own_database(tmp_path: Path) -> str:
    """A migrated SQLite database the web server's process reads what this test committed from (what is counted
    does not depend on the database, and a web server takes a while to start: one run is enough)."""
    url = f"sqlite:///{tmp_path / 'callvault.db'}"
    engine = make_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    return url


def ready_batch(session: Session, runtime: Runtime) -> tuple[ResearchBatch, str]:
    """A ready batch whose stored package is PACKAGE_BYTES of noise, and a partner token of its institute."""
    store, envelope = runtime.store, runtime.envelope
    made = draft(session, runtime, make_user(session), institute(session).id)
    batch = as_ready(made)
    encrypted = io.BytesIO()
    body = os.urandom(PACKAGE_BYTES)
    sealed = seal_package(envelope, batch_id=batch.id, chunks=[body], destination=_Unclosed(encrypted))
    store.put(sealed.key, io.BytesIO(encrypted.getvalue()))
    batch.package_key, batch.package_sha256, batch.package_size = sealed.key, sealed.sha256, sealed.size
    batch.package_wrapped_key, batch.package_master_key_id = sealed.wrapped.wrapped, sealed.wrapped.master_key_id
    _, plain = create_token(session, actor=SYSTEM, user=partner(session, batch.institute_id), scope="partner")
    session.commit()
    return batch, plain


class _Unclosed(io.BufferedIOBase):
    """Tink closes its destination when the stream ends; the bytes are still wanted afterwards."""

    def __init__(self, target: io.BytesIO) -> None:
        self._target = target

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        return self._target.write(data)


def get(server: LiveServer, path: str, token: str, headers: dict[str, str] | None = None) -> tuple[int, int]:
    """GET `path` to its end: the status and how many bytes of body came."""
    connection = server.connection(timeout=60)
    try:
        signed = {"Authorization": f"Bearer {token}"} if token else {}
        connection.request("GET", path, headers={**signed, **(headers or {})})
        response = connection.getresponse()
        return response.status, len(response.read())
    finally:
        connection.close()


def counted(server: LiveServer, runtime: Runtime, batch_id: str) -> tuple[int, bool]:
    """The batch's `downloads` and whether it has a last download time, once the web server recorded the end of
    the answers before (one worker, one request at a time: answering another means those were closed)."""
    assert get(server, "/healthz", "")[0] == 200
    with runtime.sessions() as session:
        batch = session.get(ResearchBatch, batch_id)
        assert batch is not None
        return batch.downloads, batch.last_download_at is not None


def broken_off(server: LiveServer, path: str, token: str) -> int:
    """GET the package, read a megabyte of it and reset the connection, as a client that dies does; the bytes read."""
    with socket.socket() as client:
        # A fixed, small receive buffer (no autotuning): what the client has not read stays in the server's.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        client.settimeout(60)
        client.connect(("127.0.0.1", server.port))
        client.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
        received = b""
        while b"\r\n\r\n" not in received or len(received.split(b"\r\n\r\n", 1)[1]) < READ_BYTES:
            chunk = client.recv(65536)
            assert chunk, "the server closed the connection first"
            received += chunk
        assert received.startswith(b"HTTP/1.1 200")
        # With a zero linger, closing sends a reset: the server's next write fails.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    return len(received.split(b"\r\n\r\n", 1)[1])


@pytest.mark.slow
def test_a_download_broken_off_records_the_bytes_that_went_out_and_counts_once_resumed_to_its_end(
    base_settings: Settings, store: S3ObjectStore, envelope: Envelope, tmp_path: Path
) -> None:
    url = own_database(tmp_path)
    settings = replace(base_settings, database_url=url, data_dir=tmp_path / "var")
    settings.data_dir.mkdir(mode=0o700)
    engine = make_engine(url)
    try:
        runtime = Runtime(
            settings=settings, engine=engine, sessions=make_sessionmaker(engine), store=store, envelope=envelope
        )
        with runtime.sessions() as session:
            batch, token = ready_batch(session, runtime)
        path = f"/api/v1/research/batches/{batch.id}/package"
        with live_server(settings) as server:
            received = broken_off(server, path, token)
            assert received >= READ_BYTES
            after_break = counted(server, runtime, batch.id)
            # The client resumes from the bytes it received, which may run into the chunk the server was writing.
            rest = get(server, path, token, {"Range": f"bytes={received}-"})
            after_resume = counted(server, runtime, batch.id)
            whole = get(server, path, token)
            after_another = counted(server, runtime, batch.id)
        with runtime.sessions() as session:
            served = [event.details for event in events(session, "batch.downloaded", batch.id)]
            started = [event.details for event in events(session, "batch.download_started", batch.id)]
    finally:
        engine.dispose()

    broken = served[0]
    assert READ_BYTES <= broken["bytes"] < PACKAGE_BYTES // 2, broken
    assert (broken["start"], broken["requested"], broken["complete"]) == (0, PACKAGE_BYTES, False)
    asked = [(d["start"], d["requested"]) for d in started]
    assert asked == [(0, PACKAGE_BYTES), (received, PACKAGE_BYTES - received), (0, PACKAGE_BYTES)]
    # Found by review: `downloads` rose when the answer from byte 0 began, so the custody record claimed a download
    # of the whole package that never completed. It counts completed packages: the resume completes this one (once).
    assert after_break == (0, False)
    assert rest == (206, PACKAGE_BYTES - received) and after_resume == (1, True)
    assert whole == (200, PACKAGE_BYTES) and after_another == (2, True)
    assert [d["counted"] for d in served] == [False, True, True]
