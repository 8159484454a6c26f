"""Object storage: the `ObjectStore` protocol and its S3 implementation over boto3.

Provider errors are translated here, at the edge: a missing key becomes the domain `NotFound`, and a store that
cannot be reached or answers "try later" (connection refused or reset, time-outs, 500/503) becomes `Unavailable`,
which the web maps to 503 with `Retry-After`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, Protocol

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as StoreConnectionError

from recordings_service.config import Settings
from recordings_service.errors import NotFound, Unavailable
from recordings_service.storage.payload_signing import sign_bodies_without_checksums

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

CHUNK = 1024 * 1024
_MISSING_CODES = {"NoSuchKey", "404", "NotFound", "NoSuchVersion"}
# Answers that mean "the store cannot serve this now", not "this request is wrong".
# A bucket that does not exist is the store misconfigured (CALLVAULT_S3_BUCKET), not a request to refuse: nothing
# can be served until an operator fixes it.
_UNAVAILABLE_CODES = {
    "500",
    "502",
    "503",
    "504",
    "InternalError",
    "ServiceUnavailable",
    "SlowDown",
    "RequestTimeout",
    "NoSuchBucket",
}
DELETE_BATCH = 1000  # the most keys one S3 DeleteObjects call takes
# Whether the bucket can keep objects under S3 Object Lock: on, off for this bucket, or not a feature of the store.
ObjectLock = Literal["enabled", "not enabled", "unsupported"]


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    last_modified: datetime


@dataclass(frozen=True)
class ObjectVersion:
    """One stored version of a key, or a delete marker (which hides the versions below it, and is one too)."""

    key: str
    version_id: str
    size: int
    last_modified: datetime
    delete_marker: bool
    latest: bool  # the key's current version (or marker): what a read of the key gets


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    sha256: str
    version_id: str | None = None  # the version the put created, where the store says (not for multipart uploads)


class ObjectStore(Protocol):
    def put(self, key: str, source: BinaryIO) -> StoredObject: ...

    def put_stream(self, key: str, source: BinaryIO) -> None: ...

    def get(self, key: str) -> BinaryIO: ...

    def get_range(self, key: str, start: int, end: int) -> bytes: ...

    def open_range(self, key: str, start: int, end: int) -> BinaryIO: ...

    def head(self, key: str) -> ObjectInfo: ...

    def delete(self, key: str) -> int: ...

    def delete_versions(self, versions: Iterable[tuple[str, str]]) -> int: ...

    def list(self, prefix: str) -> Iterator[ObjectInfo]: ...

    def list_versions(self, prefix: str) -> Iterator[ObjectVersion]: ...

    def presigned_get(self, key: str, *, expires_in: int) -> str: ...

    def check(self) -> None: ...

    def object_lock(self) -> ObjectLock: ...

    def put_locked(self, key: str, data: bytes, *, retain_until: datetime) -> None: ...


# A transfer waits long for a busy store; a question about the store (is it there, does it lock objects) does not:
# asked by readiness, with a transfer's patience a store that hung (accepting, never answering) held each /readyz six
# minutes, and a load balancer's probes took every thread of the web workers meanwhile.
TRANSFER = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=120)
QUESTION = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2, read_timeout=5)


def make_client(
    settings: Settings,
    *,
    access_key: str | None = None,
    secret_key: str | None = None,
    patience: Config = TRANSFER,
) -> S3Client:
    """A boto3 client that signs with SigV4 and path-style addressing (presigned URLs are SigV2 otherwise); bodies
    that carry a SHA-256 checksum are left out of the signature (`payload_signing`). `patience`: its timeouts and
    retries (`TRANSFER`, or `QUESTION` for the store's quick questions)."""
    client = boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key if access_key is None else access_key,
        aws_secret_access_key=settings.s3_secret_key if secret_key is None else secret_key,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}).merge(patience),
    )
    sign_bodies_without_checksums(client)
    return client


class S3ObjectStore:
    """An S3 bucket (AWS S3, SeaweedFS, Ceph, MinIO) seen as an `ObjectStore`."""

    def __init__(self, client: S3Client, bucket: str, *, questions: S3Client | None = None) -> None:
        self._client = client
        self._questions = questions or client  # `check` and `object_lock`'s, with `QUESTION`'s patience
        self.bucket = bucket

    @classmethod
    def from_settings(cls, settings: Settings) -> S3ObjectStore:
        return cls(make_client(settings), settings.s3_bucket, questions=make_client(settings, patience=QUESTION))

    def ensure_bucket(self) -> None:
        """Create the bucket if needed, turn versioning on (deletes then remove every version) and Object Lock
        where the store has it (only objects put with `put_locked` are retained; it sets no default retention)."""
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if _error_code(exc) not in {"404", "NoSuchBucket", "NotFound"}:
                raise
            self._client.create_bucket(Bucket=self.bucket)
        self._client.put_bucket_versioning(Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"})
        # A store without Object Lock refuses; `object_lock()` reports it, and audit anchors are then plain objects.
        with contextlib.suppress(ClientError):
            self._client.put_object_lock_configuration(
                Bucket=self.bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"}
            )

    def put(self, key: str, source: BinaryIO) -> StoredObject:
        """Stream `source` to `key`, sending its SHA-256 so the server verifies what it received."""
        digest = hashlib.sha256()
        size = 0
        start = source.tell()
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
        source.seek(start)
        checksum = base64.b64encode(digest.digest()).decode()
        with _answering(key):
            version_id = self._put(key, source, size=size, checksum=checksum)
        return StoredObject(key=key, size=size, sha256=digest.hexdigest(), version_id=version_id)

    def _put(self, key: str, source: BinaryIO, *, size: int, checksum: str) -> str | None:
        if size <= 64 * CHUNK:
            response = self._client.put_object(
                Bucket=self.bucket, Key=key, Body=source, ContentLength=size, ChecksumSHA256=checksum
            )
            return response.get("VersionId")
        # The transfer manager keeps CompleteMultipartUpload's answer, and with it the version, to itself.
        self._client.upload_fileobj(
            source,
            self.bucket,
            key,
            ExtraArgs={"ChecksumAlgorithm": "SHA256"},
            Config=_multipart_config(),
        )
        return None

    def put_stream(self, key: str, source: BinaryIO) -> None:
        """Upload a stream that cannot be rewound (a pipe), part by part as it is read; each part carries its
        SHA-256 for the server to check. A `source` that raises aborts the upload: nothing is stored."""
        with _answering(key):
            self._client.upload_fileobj(
                source, self.bucket, key, ExtraArgs={"ChecksumAlgorithm": "SHA256"}, Config=_multipart_config()
            )

    def get(self, key: str) -> BinaryIO:
        with _answering(key):
            body = self._client.get_object(Bucket=self.bucket, Key=key)["Body"]
        return body  # type: ignore[return-value]

    def get_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes `start`..`end` inclusive, as HTTP ranges count them."""
        with _answering(key):
            return self._client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes={start}-{end}")["Body"].read()

    def open_range(self, key: str, start: int, end: int) -> BinaryIO:
        """Bytes `start`..`end` inclusive as a stream, read from the network as the caller reads it."""
        with _answering(key):
            response = self._client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes={start}-{end}")
        return response["Body"]  # type: ignore[return-value]

    def head(self, key: str) -> ObjectInfo:
        with _answering(key):
            response = self._client.head_object(Bucket=self.bucket, Key=key)
        return ObjectInfo(key=key, size=response["ContentLength"], last_modified=response["LastModified"])

    def delete(self, key: str) -> int:
        """Delete every version and delete marker of `key`; returns how many were removed."""
        with _answering(key):
            return self._delete(key)

    def _delete(self, key: str) -> int:
        removed = 0
        paginator = self._client.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=key):
            entries: list[Any] = [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            for entry in entries:
                if entry["Key"] != key:
                    continue
                self._client.delete_object(Bucket=self.bucket, Key=key, VersionId=entry["VersionId"])
                removed += 1
        if removed == 0:
            # An unversioned bucket (or a store without versioning) still needs the plain delete.
            self._client.delete_object(Bucket=self.bucket, Key=key)
        return removed

    def delete_versions(self, versions: Iterable[tuple[str, str]]) -> int:
        """Delete these (key, version id) pairs, 1000 a call; one already gone counts as deleted."""
        pending = list(versions)
        for offset in range(0, len(pending), DELETE_BATCH):
            chunk = pending[offset : offset + DELETE_BATCH]
            with _answering(chunk[0][0]):
                answer = self._client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": key, "VersionId": version} for key, version in chunk], "Quiet": True},
                )
            failed = [error for error in answer.get("Errors", []) if error.get("Code") not in _MISSING_CODES]
            if failed:
                code, key = failed[0].get("Code"), failed[0].get("Key")
                raise Unavailable(f"object store kept {len(failed)} of {len(chunk)} versions: {code} on {key}")
        return len(pending)

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        paginator = self._client.get_paginator("list_objects_v2")
        for page in _pages(paginator.paginate(Bucket=self.bucket, Prefix=prefix), prefix):
            for entry in page.get("Contents", []):
                yield ObjectInfo(key=entry["Key"], size=entry["Size"], last_modified=entry["LastModified"])

    def list_versions(self, prefix: str) -> Iterator[ObjectVersion]:
        """Every version and delete marker under `prefix`, current or not (what deletion must leave none of)."""
        paginator = self._client.get_paginator("list_object_versions")
        for page in _pages(paginator.paginate(Bucket=self.bucket, Prefix=prefix), prefix):
            for entry in page.get("Versions", []):
                yield ObjectVersion(
                    key=entry["Key"],
                    version_id=entry["VersionId"],
                    size=entry["Size"],
                    last_modified=entry["LastModified"],
                    delete_marker=False,
                    latest=entry.get("IsLatest", False),
                )
            for marker in page.get("DeleteMarkers", []):
                yield ObjectVersion(
                    key=marker["Key"],
                    version_id=marker["VersionId"],
                    size=0,
                    last_modified=marker["LastModified"],
                    delete_marker=True,
                    latest=marker.get("IsLatest", False),
                )

    def presigned_get(self, key: str, *, expires_in: int) -> str:
        return self._client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in
        )

    def check(self) -> None:
        """Raise `Unavailable` unless the bucket answers and keeps versions (deletions remove every version, and the
        evidence relies on none being overwritten): a bucket named wrong was created unversioned by the store's
        first write, and readiness then said `ok`."""
        try:
            self._questions.head_bucket(Bucket=self.bucket)
            versioning = self._questions.get_bucket_versioning(Bucket=self.bucket).get("Status")
        except ClientError as exc:
            raise Unavailable(f"object store: {_error_code(exc) or type(exc).__name__}") from None
        except Exception as exc:  # noqa: BLE001 — any failure means the store is not ready
            raise Unavailable(f"object store: {type(exc).__name__}") from None
        if versioning != "Enabled":
            raise Unavailable(f"object store: versioning is not enabled on bucket {self.bucket}")

    def object_lock(self) -> ObjectLock:
        try:
            answer = self._questions.get_object_lock_configuration(Bucket=self.bucket)
        except ClientError as exc:
            if _error_code(exc) == "ObjectLockConfigurationNotFoundError":
                return "not enabled"
            return "unsupported"
        enabled = answer.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") == "Enabled"
        return "enabled" if enabled else "not enabled"

    def put_locked(self, key: str, data: bytes, *, retain_until: datetime) -> None:
        """Put `data` under compliance-mode retention: no one, the root account included, can delete or
        overwrite this version before `retain_until`."""
        with _answering(key):
            self._put_locked(key, data, retain_until=retain_until)

    def _put_locked(self, key: str, data: bytes, *, retain_until: datetime) -> None:
        self._client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ChecksumAlgorithm="SHA256",
            ObjectLockMode="COMPLIANCE",
            ObjectLockRetainUntilDate=retain_until,
        )


def _multipart_config() -> TransferConfig:
    config = TransferConfig(multipart_chunksize=16 * CHUNK, max_concurrency=4)
    # s3transfer reads each part of a file object into memory and queues ten by default (160 MiB);
    # capping the queue at the concurrency keeps a web worker's upload buffers at 64 MiB.
    config.max_in_memory_upload_chunks = 4
    return config


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def _answering(key: str) -> Iterator[None]:
    """Translate the provider's errors about `key`: missing becomes `NotFound`, unreachable becomes `Unavailable`."""
    try:
        yield
    except ClientError as exc:
        code = _error_code(exc)
        if code in _MISSING_CODES:
            raise NotFound(f"object {key} not found") from None
        if code in _UNAVAILABLE_CODES:
            raise Unavailable(f"object store answered {code}") from exc
        raise
    except (StoreConnectionError, HTTPClientError) as exc:
        raise Unavailable(f"object store unreachable: {type(exc).__name__}") from exc
    except S3UploadFailedError as exc:
        # s3transfer reports any failed part this way, after its own retries; the cause says why.
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, ClientError) and _error_code(cause) not in _UNAVAILABLE_CODES:
            raise
        raise Unavailable(f"object store upload failed: {type(cause or exc).__name__}") from exc


def _pages(pages: Iterable[Any], prefix: str) -> Iterator[Any]:
    """A paginator's pages, its provider errors translated as `_answering` does."""
    iterator = iter(pages)
    while True:
        with _answering(prefix):
            page = next(iterator, None)
        if page is None:
            return
        yield page
