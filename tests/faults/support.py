"""What the fault tests share: a world of their own (bucket, database, data directory), uploads with retries
as a telephony client makes them, and the closing proof that reconcile leaves nothing orphaned or missing."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from recordings_service import schema
from recordings_service.config import Settings
from recordings_service.db import make_engine, make_sessionmaker
from recordings_service.models import Recording
from recordings_service.originals import original_sha256
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore, make_client
from recordings_service.storage.reconcile import ReconcileReport, reconcile_storage
from recordings_service.storage.spool import purge_stale_spools, spool_dir
from tests.conftest import private_postgres_schema
from tests.factories.recordings import MONO, STEREO, TEST_ACTOR, call_metadata, make_token
from tests.live_server import LiveServer, MultipartBody, send_recording, settings_env

REPO = Path(__file__).resolve().parents[2]
SOURCE = "pbx-fault"


@dataclass(frozen=True)
class World:
    """Settings, runtime and an ingest token of one fault test, sharing nothing with other tests."""

    settings: Settings
    runtime: Runtime
    token: str


@contextmanager
def fault_world(
    base: Settings,
    tmp_path: Path,
    *,
    database: str = "sqlite",
    application_name: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> Iterator[World]:
    """A bucket, a migrated database (SQLite file or private PostgreSQL schema) and a data directory of its own;
    on PostgreSQL every process of the test connects as `application_name`."""
    with _database(database, tmp_path) as schema_url:
        url = f"{schema_url}&application_name={application_name}" if application_name else schema_url
        settings = replace(
            base,
            data_dir=tmp_path / "var",
            database_url=url,
            s3_bucket="fault-" + secrets.token_hex(6),
            **(overrides or {}),
        )
        settings.data_dir.mkdir(mode=0o700)
        store = S3ObjectStore(make_client(settings), settings.s3_bucket)
        store.ensure_bucket()
        engine = make_engine(url, pool_pre_ping=True)
        runtime = Runtime(
            settings=settings,
            engine=engine,
            sessions=make_sessionmaker(engine),
            store=store,
            envelope=Envelope(settings.master_key),
        )
        with runtime.sessions() as session:
            token = make_token(session, source=SOURCE)
        try:
            yield World(settings, runtime, token)
        finally:
            engine.dispose()


@contextmanager
def _database(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "postgresql":
        with private_postgres_schema("t_fault_") as url:
            yield url
        return
    url = f"sqlite:///{tmp_path / 'callvault.db'}"
    engine = make_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    yield url


@dataclass(frozen=True)
class Call:
    external_call_id: str
    body: MultipartBody


def new_call(path: Path = STEREO) -> Call:
    """A fresh call (its own external_call_id) of the stereo or the mono fixture."""
    layout = {"channel_layout": "mono", "agent_channel": ...} if path == MONO else {}
    metadata = call_metadata(source=SOURCE, **layout)
    return Call(metadata["external_call_id"], MultipartBody(path, metadata))


def send(server: LiveServer, token: str, call: Call, *, timeout: float = 60) -> tuple[int, dict[str, str]]:
    """POST one call; the status and the response headers, the body under "body" (OSError if the connection dies)."""
    status, headers, payload = send_recording(server, token, call.body, timeout=timeout)
    return status, headers | {"body": payload.decode(errors="replace")}


def accepted_id(headers: dict[str, str]) -> str:
    return str(json.loads(headers["body"])["id"])


def wait_for(path: Path, timeout_s: float = 60) -> Path:
    """`path`, once it exists (a pause point's `reached`)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists():
            return path
        time.sleep(0.01)
    raise AssertionError(f"{path.name} never appeared")


@dataclass(frozen=True)
class Reconciled:
    first: ReconcileReport
    spools_removed: int
    rows: int


def reconcile_to_clean(world: World) -> Reconciled:
    """Run reconcile (every orphan old enough to go), then show that a second pass finds 0 orphans and 0 missing
    objects, that every row's object decrypts to its SHA-256, that no spool is left, and that
    `callvault retention check` agrees (`overdue=0 orphans=0`, exit 0)."""
    runtime = world.runtime
    with runtime.sessions() as session:
        first = reconcile_storage(session, runtime.store, actor=TEST_ACTOR, grace_s=0)
        session.commit()
    spools_removed = purge_stale_spools(world.settings, older_than_s=0, now=time.time() + 1)
    with runtime.sessions() as session:
        again = reconcile_storage(session, runtime.store, actor=TEST_ACTOR, grace_s=0)
        session.commit()
        assert (again.orphans_deleted, again.orphans_waiting, again.rows_missing_object) == (0, 0, 0), again
        rows = session.scalars(select(Recording)).all()
        assert {row.status for row in rows} <= {"stored", "transcribing", "transcribed"}
        keys = {info.key for info in runtime.store.list("originals/")}
        assert keys == {row.storage_key for row in rows}
        for row in rows:
            assert original_sha256(runtime.store, runtime.envelope, row) == row.sha256
        count = session.scalar(select(func.count()).select_from(Recording)) or 0
    assert list(spool_dir(world.settings).iterdir()) == []
    retention_check(world)
    return Reconciled(first=first, spools_removed=spools_removed, rows=count)


def retention_check(world: World) -> None:
    """`callvault retention check` in a process of its own: `overdue=0 orphans=0`, exit 0."""
    check = subprocess.run(
        [str(Path(sys.executable).parent / "callvault"), "retention", "check"],
        env=settings_env(world.settings),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert check.returncode == 0 and "overdue=0 orphans=0" in check.stdout, check.stdout + check.stderr
