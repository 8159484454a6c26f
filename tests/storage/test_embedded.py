"""The embedded SeaweedFS is reachable only through authenticated S3: none of its other ports reads, writes
or deletes an object without credentials, and its process holds none of Callvault's secrets."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import os
import secrets
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from recordings_service.config import Settings
from recordings_service.storage.embedded import PORT_SPAN, EmbeddedS3
from recordings_service.storage.object_store import S3ObjectStore, make_client
from tests.conftest import TEST_STORE_VOLUMES, free_port_block, new_embedded_s3

HTTP_OFFSETS = {1: "master", 3: "volume", 5: "filer", 8: "admin"}
GRPC_OFFSETS = {2: "master gRPC", 4: "volume gRPC", 6: "filer gRPC", 7: "S3 gRPC", 9: "admin gRPC"}
BUCKET = "locked"
KEY = "originals/2026/12/locked"
# Callvault's secrets as the parent process holds them; weed must inherit none.
PARENT_SECRETS = {
    "CALLVAULT_MASTER_KEY": "master-" + secrets.token_hex(16),
    "CALLVAULT_SECRET_KEY": "flask-" + secrets.token_hex(16),
    "CALLVAULT_S3_SECRET_KEY": "s3-" + secrets.token_hex(16),
    "CALLVAULT_S3_JWT_KEY": "jwt-" + secrets.token_hex(16),
}


@dataclass(frozen=True)
class Locked:
    server: EmbeddedS3
    store: S3ObjectStore
    jwt_key: str
    content: bytes


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Locked]:
    saved = {name: os.environ.get(name) for name in PARENT_SECRETS}
    os.environ.update(PARENT_SECRETS)
    jwt_key = PARENT_SECRETS["CALLVAULT_S3_JWT_KEY"]
    server = EmbeddedS3(
        store_dir=tmp_path_factory.mktemp("locked-seaweedfs"),
        port=free_port_block(PORT_SPAN),
        access_key="lock" + secrets.token_hex(6),
        secret_key=PARENT_SECRETS["CALLVAULT_S3_SECRET_KEY"],
        jwt_key=jwt_key,
    )
    try:
        server.start()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("locked-var"),
        s3_port=server.port,
        s3_bucket=BUCKET,
        s3_access_key=server._access_key,
        s3_secret_key=server._secret_key,
    ).with_derived_defaults()
    store = S3ObjectStore(make_client(settings), BUCKET)
    store.ensure_bucket()
    # Large enough to live in a volume chunk, not inline in the filer's metadata.
    content = os.urandom(300 * 1024)
    store.put(KEY, io.BytesIO(content))
    yield Locked(server=server, store=store, jwt_key=jwt_key, content=content)
    server.stop()


def hs256(key: str, claims: dict[str, object]) -> str:
    """A JWT as weed's own S3 gateway signs them (HS256), to look up the object while authorised."""

    def encode(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    signed = encode(b'{"alg":"HS256","typ":"JWT"}') + b"." + encode(json.dumps(claims).encode())
    return (signed + b"." + encode(hmac.new(key.encode(), signed, hashlib.sha256).digest())).decode()


def request(method: str, url: str, *, headers: dict[str, str] | None = None) -> tuple[int | str, bytes]:
    body = b"overwritten" if method in {"PUT", "POST"} else None
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, data=body, method=method, headers=headers or {}), timeout=5
        ) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()
    except (OSError, ConnectionError) as dropped:
        return type(dropped).__name__, b""


def object_paths(locked: Locked) -> list[str]:
    """Every path that addresses the object on some port: its volume file id (found through the filer
    with a valid JWT), the id as a path, and its filer paths."""
    filer = f"http://127.0.0.1:{locked.server.port + 5}/buckets/{BUCKET}/{KEY}.versions/"
    token = hs256(locked.jwt_key, {"exp": int(time.time()) + 60})
    status, listing = request("GET", filer, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
    assert status == 200, status
    file_ids = [chunk["file_id"] for entry in json.loads(listing)["Entries"] for chunk in entry["chunks"]]
    assert file_ids
    version = json.loads(listing)["Entries"][0]["FullPath"]
    return [
        *(f"/{fid}" for fid in file_ids),
        *(f"/{fid.replace(',', '/')}" for fid in file_ids),
        f"/buckets/{BUCKET}/{KEY}",
        version,
    ]


@pytest.mark.parametrize("offset", sorted(HTTP_OFFSETS), ids=lambda offset: HTTP_OFFSETS[offset])
def test_no_http_port_but_s3_reads_writes_or_deletes_without_credentials(locked: Locked, offset: int) -> None:
    base = f"http://127.0.0.1:{locked.server.port + offset}"
    versions_before = list(locked.store.list_versions(KEY))
    for path in object_paths(locked):
        for method in ("GET", "PUT", "POST", "DELETE"):
            status, body = request(method, base + path)
            assert locked.content[:4096] not in body, (method, path)
            assert not (isinstance(status, int) and status < 300 and method != "GET"), (method, path, status, body)
    assert locked.store.get(KEY).read() == locked.content
    assert list(locked.store.list_versions(KEY)) == versions_before


@pytest.mark.parametrize("offset", sorted(GRPC_OFFSETS), ids=lambda offset: GRPC_OFFSETS[offset])
def test_no_grpc_port_answers_without_the_client_certificate(locked: Locked, offset: int) -> None:
    address = ("127.0.0.1", locked.server.port + offset)
    # Plain HTTP/2, as an unauthenticated gRPC client speaks it: the server says nothing back.
    with socket.create_connection(address, timeout=5) as plain:
        plain.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes.fromhex("000000040000000000"))
        try:
            answer = plain.recv(64)
        except ConnectionResetError:
            answer = b""
    assert answer == b""
    # TLS without a client certificate is refused before any request is read.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["h2"])
    with (
        pytest.raises(ssl.SSLError, match="CERTIFICATE_REQUIRED"),
        context.wrap_socket(socket.create_connection(address, timeout=5)) as tls,
    ):
        tls.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes.fromhex("000000040000000000"))
        tls.recv(64)
    assert locked.store.get(KEY).read() == locked.content


def test_weed_inherits_none_of_callvaults_secrets(locked: Locked) -> None:
    assert locked.server.process is not None
    environ = Path(f"/proc/{locked.server.process.pid}/environ").read_bytes()
    assert b"CALLVAULT_" not in environ
    for value in PARENT_SECRETS.values():
        assert value.encode() not in environ


def test_start_returns_once_the_named_bucket_has_a_writable_volume(tmp_path: Path) -> None:
    """weed grows a bucket's first volume on its first write; on a busy machine that outlasted the S3 gateway's
    wait and a restore's first object failed with InternalError. `start` grows it before returning."""
    server = new_embedded_s3(tmp_path / "seaweedfs", name="ready", bucket="first-writes")
    server.start()
    try:
        status, body = request("GET", f"http://127.0.0.1:{server.port + 1}/vol/status")
        assert status == 200, status
        nodes = json.loads(body)["Volumes"]["DataCenters"]["DefaultDataCenter"]["DefaultRack"].values()
        volumes = [volume for node in nodes for volume in node]
        assert any(volume["Collection"] == "first-writes" and not volume["ReadOnly"] for volume in volumes), volumes
    finally:
        server.stop()


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A 400 MiB file system of its own, as nearly full a disk as CI's can be: weed counts its volumes from it.

    Mounted outside pytest's base directory: one left mounted by a killed run would stop the next from clearing it."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system takes root")
    mount_point = Path(tempfile.mkdtemp(prefix="callvault-small-disk-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=400M,mode=700", "tmpfs", str(mount_point)],
        check=False,
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"this machine lets no file system be mounted here: {mounted.stderr.strip()}")
    yield mount_point
    subprocess.run(["umount", "--lazy", str(mount_point)], check=True)
    mount_point.rmdir()


def test_the_test_store_takes_a_bucket_per_test_on_a_small_disk(small_disk: Path) -> None:
    """Each bucket takes a volume, and weed's own count of volumes is the free disk over the volume size: six on
    400 MiB. The tests make a bucket each where a backup or restore needs one of its own, and once the suite's
    server had no volume left every put into a new bucket answered InternalError (in CI)."""
    server = new_embedded_s3(small_disk / "seaweedfs", name="many", bucket="first")
    try:
        server.start()
        settings = Settings(
            data_dir=small_disk / "var",
            s3_port=server.port,
            s3_access_key=server._access_key,
            s3_secret_key=server._secret_key,
        ).with_derived_defaults()
        for number in range(12):
            bucket = S3ObjectStore(make_client(settings), f"bucket-{number}")
            bucket.ensure_bucket()
            assert bucket.put("originals/one", io.BytesIO(b"x" * 1000)).size == 1000
    finally:
        server.stop()


def test_the_suites_store_has_room_for_a_volume_per_bucket_whatever_the_free_disk(s3_server: EmbeddedS3) -> None:
    status, body = request("GET", f"http://127.0.0.1:{s3_server.port + 1}/dir/status")
    assert status == 200, status
    assert json.loads(body)["Topology"]["Max"] == TEST_STORE_VOLUMES
