"""The store's client leaves a body out of the request signature where a signed SHA-256 checksum describes it
(botocore hashed it into the signature and the store hashed it again, on top of the checksum both compute), and signs
every other body: whichever way, a body changed on the way is refused (`test_object_store` sends a wrong checksum)."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.awsrequest import AWSPreparedRequest

from recordings_service.db import new_id
from recordings_service.storage.object_store import S3ObjectStore

UNSIGNED = "UNSIGNED-PAYLOAD"


def header(request: AWSPreparedRequest, name: str) -> str:
    value = request.headers.get(name, "")
    return value.decode() if isinstance(value, bytes) else str(value)


def operation(request: AWSPreparedRequest) -> str:
    query = parse_qs(urlsplit(request.url).query, keep_blank_values=True)
    for parameter, name in (("partNumber", "part"), ("uploadId", "complete"), ("delete", "delete")):
        if parameter in query:
            return name
    return "put"


@pytest.fixture
def sent(store: S3ObjectStore) -> Iterator[list[AWSPreparedRequest]]:
    requests: list[AWSPreparedRequest] = []

    def record(request: AWSPreparedRequest, **_kwargs: object) -> None:
        requests.append(request)

    events = store._client.meta.events
    events.register("before-send.s3", record)
    yield requests
    events.unregister("before-send.s3", record)


def test_a_body_goes_unsigned_only_where_a_signed_sha256_checksum_describes_it(
    store: S3ObjectStore, sent: list[AWSPreparedRequest]
) -> None:
    prefix = f"checksums/{new_id()}"
    store.put(f"{prefix}/original", io.BytesIO(os.urandom(100_000)))
    store.put_stream(f"{prefix}/stream", io.BytesIO(os.urandom(9 * 1024 * 1024)))  # past s3transfer's 8 MiB: parts
    store.put_locked(f"{prefix}/anchor", b"anchor", retain_until=datetime.now(UTC) + timedelta(seconds=5))
    store.delete_versions([(item.key, item.version_id) for item in store.list_versions(f"{prefix}/original")])

    with_body = [request for request in sent if request.body]
    assert {operation(request) for request in with_body} == {"put", "part", "complete", "delete"}
    unsigned = [request for request in with_body if header(request, "x-amz-content-sha256") == UNSIGNED]
    # The original's put, the audit anchor's and the stream's part: each carries its checksum.
    assert sorted(operation(request) for request in unsigned) == ["part", "put", "put"]
    for request in unsigned:
        signed_headers = header(request, "Authorization").split("SignedHeaders=")[1].split(",")[0].split(";")
        assert header(request, "x-amz-checksum-sha256")
        assert "x-amz-checksum-sha256" in signed_headers
    for request in with_body:
        if request not in unsigned:
            assert header(request, "x-amz-content-sha256") == hashlib.sha256(request.body).hexdigest()
