"""The S3 object store against a real SeaweedFS server: streaming, ranges, versions, presigned URLs, auth."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import time
import urllib.error
import urllib.request
from dataclasses import replace

import pytest
from botocore.exceptions import ClientError

from recordings_service.config import Settings
from recordings_service.db import new_id
from recordings_service.errors import NotFound, Unavailable
from recordings_service.storage import object_store
from recordings_service.storage.object_store import S3ObjectStore, make_client


def unique_key(prefix: str = "test") -> str:
    return f"{prefix}/{new_id()}"


def test_put_streams_and_reports_size_and_sha256(store: S3ObjectStore) -> None:
    data = os.urandom(3 * 1024 * 1024 + 5)
    key = unique_key()
    stored = store.put(key, io.BytesIO(data))
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert store.get(key).read() == data
    assert store.head(key).size == len(data)


def test_put_whose_body_is_not_what_its_checksum_says_is_refused(store: S3ObjectStore) -> None:
    key = unique_key()
    wrong = base64.b64encode(hashlib.sha256(b"other bytes").digest()).decode()
    with pytest.raises(ClientError):
        store._client.put_object(Bucket=store.bucket, Key=key, Body=b"these bytes", ChecksumSHA256=wrong)
    with pytest.raises(NotFound):
        store.head(key)


def test_large_put_goes_multipart_and_round_trips(store: S3ObjectStore, tmp_path) -> None:
    path = tmp_path / "big.bin"
    block = os.urandom(1024 * 1024)
    with path.open("wb") as handle:
        for _ in range(70):  # past the single-request threshold of 64 MiB
            handle.write(block)
    key = unique_key()
    with path.open("rb") as handle:
        stored = store.put(key, handle)
    digest = hashlib.sha256()
    body = store.get(key)
    while chunk := body.read(1024 * 1024):
        digest.update(chunk)
    assert stored.sha256 == digest.hexdigest()
    assert store.head(key).size == 70 * len(block)
    store.delete(key)


def test_range_get_returns_inclusive_bytes(store: S3ObjectStore) -> None:
    key = unique_key()
    store.put(key, io.BytesIO(b"0123456789"))
    assert store.get_range(key, 2, 5) == b"2345"


def test_missing_key_is_domain_not_found(store: S3ObjectStore) -> None:
    key = unique_key("missing")
    with pytest.raises(NotFound):
        store.get(key)
    with pytest.raises(NotFound):
        store.head(key)
    with pytest.raises(NotFound):
        store.get_range(key, 0, 1)


def test_list_by_prefix(store: S3ObjectStore) -> None:
    prefix = unique_key("listing")
    keys = {f"{prefix}/{name}" for name in ("a", "b", "c")}
    for key in keys:
        store.put(key, io.BytesIO(b"x"))
    store.put(prefix + "-other", io.BytesIO(b"x"))
    assert {info.key for info in store.list(prefix + "/")} == keys


def test_delete_removes_every_version(store: S3ObjectStore) -> None:
    key = unique_key("versioned")
    for body in (b"first", b"second", b"third"):
        store.put(key, io.BytesIO(body))
    client = store._client
    versions = client.list_object_versions(Bucket=store.bucket, Prefix=key).get("Versions", [])
    assert len(versions) == 3
    assert store.delete(key) == 3
    remaining = client.list_object_versions(Bucket=store.bucket, Prefix=key)
    assert remaining.get("Versions", []) == []
    assert remaining.get("DeleteMarkers", []) == []
    with pytest.raises(NotFound):
        store.head(key)


def test_list_versions_shows_every_version_and_delete_marker_under_a_prefix(store: S3ObjectStore) -> None:
    prefix = unique_key("versions") + "/"
    for body in (b"first", b"second"):
        store.put(prefix + "a", io.BytesIO(body))
    store.put(prefix + "b", io.BytesIO(b"only"))
    store._client.delete_object(Bucket=store.bucket, Key=prefix + "b")  # a plain delete leaves a marker
    listed = sorted((version.key, version.delete_marker, version.size) for version in store.list_versions(prefix))
    assert listed == [
        (prefix + "a", False, 5),
        (prefix + "a", False, 6),
        (prefix + "b", False, 4),
        (prefix + "b", True, 0),
    ]
    assert [info.key for info in store.list(prefix)] == [prefix + "a"]  # the listing sees current objects only
    assert len({version.version_id for version in store.list_versions(prefix)}) == 4
    assert store.delete(prefix + "a") + store.delete(prefix + "b") == 4
    assert list(store.list_versions(prefix)) == []


def test_delete_versions_removes_exactly_the_pairs_given_in_batches(
    store: S3ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = unique_key("batch") + "/"
    for name in ("a", "b", "c"):
        for body in (b"one", b"two"):
            store.put(prefix + name, io.BytesIO(body))
    store._client.delete_object(Bucket=store.bucket, Key=prefix + "c")  # a delete marker is a version too
    versions = list(store.list_versions(prefix))
    doomed = [(version.key, version.version_id) for version in versions if not version.key.endswith("b")]
    monkeypatch.setattr(object_store, "DELETE_BATCH", 2)  # several DeleteObjects calls, as past 1000 pairs
    assert store.delete_versions(doomed) == 5
    assert sorted(version.key for version in store.list_versions(prefix)) == [prefix + "b", prefix + "b"]
    assert store.delete_versions(doomed) == 5  # gone already: nothing to refuse
    with pytest.raises(NotFound):
        store.get(prefix + "a")
    assert store.delete_versions([]) == 0


def test_presigned_url_works_then_expires(store: S3ObjectStore) -> None:
    key = unique_key("presigned")
    store.put(key, io.BytesIO(b"evidence"))
    url = store.presigned_get(key, expires_in=2)
    assert "X-Amz-Signature" in url  # SigV4, not SigV2
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.read() == b"evidence"
    time.sleep(3.5)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=5)
    assert refused.value.code == 403


def test_anonymous_request_is_refused(store: S3ObjectStore, base_settings: Settings) -> None:
    key = unique_key("anon")
    store.put(key, io.BytesIO(b"secret"))
    for method, data in (("GET", None), ("PUT", b"overwrite")):
        request = urllib.request.Request(f"{base_settings.s3_endpoint}/{store.bucket}/{key}", data=data, method=method)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 403
    assert store.get(key).read() == b"secret"


def test_wrong_secret_is_refused(store: S3ObjectStore, base_settings: Settings) -> None:
    wrong = make_client(replace(base_settings, s3_secret_key="not-the-secret"))
    with pytest.raises(ClientError) as refused:
        wrong.list_objects_v2(Bucket=store.bucket)
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError):
        wrong.put_object(Bucket=store.bucket, Key=unique_key("intruder"), Body=b"x")


def test_filer_port_refuses_unsigned_writes(base_settings: Settings, s3_server) -> None:
    """SeaweedFS's filer accepts anonymous writes (201, seen here) unless the generated JWT keys are set."""
    filer = f"http://127.0.0.1:{s3_server.port + 5}/sneaky.txt"
    request = urllib.request.Request(filer, data=b"x", method="PUT")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code in {401, 403}


def test_check_raises_unavailable_when_store_is_down(base_settings: Settings) -> None:
    dead = S3ObjectStore(make_client(replace(base_settings, s3_endpoint="http://127.0.0.1:9")), "x")
    with pytest.raises(Unavailable):
        dead.check()


def test_a_bucket_that_does_not_exist_makes_the_store_unavailable_saying_so(
    store: S3ObjectStore, base_settings: Settings
) -> None:
    """Found by review: with CALLVAULT_S3_BUCKET naming no bucket, a listing (`callvault backup`, the sweep's orphan
    check) raised botocore's raw NoSuchBucket, a traceback, and a get a 500; it is the store that cannot serve (503
    with Retry-After on the web, one line from the CLI), naming the reason. (SeaweedFS makes a bucket on a put.)"""
    missing = S3ObjectStore(make_client(base_settings), "no-such-bucket-" + new_id().lower())
    attempts = [
        lambda: list(missing.list("")),
        lambda: list(missing.list_versions("")),
        lambda: missing.get("recordings/x"),
    ]
    for attempt in attempts:
        with pytest.raises(Unavailable, match="NoSuchBucket"):
            attempt()
