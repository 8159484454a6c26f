"""A throwaway Callvault for benchmarks: the embedded SeaweedFS on free ports, migrated database, bucket ready."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from recordings_service import schema
from recordings_service.config import Settings
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import generate_master_key
from recordings_service.storage.object_store import S3ObjectStore
from tests.conftest import new_embedded_s3

BENCH_BUCKET = "callvault-bench"


@contextmanager
def bench_runtime(root: Path, *, database_url: str = "") -> Iterator[Runtime]:
    """A runtime under `root` (SQLite there unless `database_url`), stopped and disposed on exit."""
    s3 = new_embedded_s3(root / "store", name="bench", bucket=BENCH_BUCKET)
    s3.start()
    runtime: Runtime | None = None
    try:
        settings = Settings(
            data_dir=root / "var",
            database_url=database_url,
            s3_port=s3.port,
            s3_bucket=BENCH_BUCKET,
            s3_access_key=s3._access_key,
            s3_secret_key=s3._secret_key,
            master_key=generate_master_key(),
            secret_key=secrets.token_urlsafe(32),
            log_level="WARNING",
            log_format="json",
        ).with_derived_defaults()
        settings.data_dir.mkdir()
        runtime = Runtime.from_settings(settings)
        schema.upgrade(runtime.engine)
        assert isinstance(runtime.store, S3ObjectStore)
        runtime.store.ensure_bucket()
        yield runtime
    finally:
        if runtime is not None:
            runtime.engine.dispose()
        s3.stop()
