"""Retention sweep throughput on PostgreSQL against the embedded SeaweedFS, in one run.

    .venv/bin/python -m bench.retention [--calls 100000] [--due-share 0.1] [--batch 500] [--database-url ...]

Creates a fresh PostgreSQL schema and migrates it, starts an embedded SeaweedFS with a versioned
bucket, uploads for each of `--calls` recordings a small original and a derived object and bulk-loads
their rows (COPY; each keeps the version ids of both, as ingest and the services record them), a tenth past
`retain_until` and spread at random over the id range. Then it times the sweep
the daily job runs (`jobs.retention.sweep`: one transaction per batch, the orphan pass, the
receipt) and the retention check after it. The baseline is raw S3 `DeleteObjects` (1000 versions a
call) of as many objects as the sweep deletes, uploaded under another prefix in the same run. Prints
recordings deleted per second, the CPU time of the bench, SeaweedFS and PostgreSQL during the sweep, the
projected time for 100 000 due recordings (goal: under 5 minutes) and the ratio of the sweep's object rate
to the raw one; drops the schema.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import Engine, func, select, text

from bench.cpu import Snapshot, snapshot, used_between
from bench.embedded import bench_runtime
from jobs.retention import sweep
from recordings_service.audit import Actor
from recordings_service.db import make_engine, new_id
from recordings_service.models import Recording
from recordings_service.models.recording import name_key
from recordings_service.privacy.sweep import check_retention
from recordings_service.storage.object_store import S3ObjectStore

DEFAULT_URL = os.environ.get("CALLVAULT_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ACTOR = Actor(id=None, name="bench", role="system")
NOW = datetime(2026, 12, 1, tzinfo=UTC)
GOAL_S = 300.0  # 100 000 due recordings in under 5 minutes
UPLOAD_THREADS = 8
ORIGINAL = b"\0" * 2048  # the bytes do not matter to deletion; their number barely does
DERIVED = b"[0, 1, 2, 3]"
RECORDING_COLUMNS = (
    "id, source, external_call_id, started_at, duration_s, direction, queue, agent_ref, language, channels,"
    " agent_channel, container, codec, sample_rate, size_bytes, sha256, storage_key, wrapped_data_key,"
    " master_key_id, notice_given, agreement_made, status, purposes, retain_until, legal_hold, restricted,"
    " created_at, updated_at, queue_key, agent_key, storage_version_id, derived_versions_known"
)


def synthetic_calls(count: int, due_share: float, seed: int = 11) -> Iterator[tuple[Any, ...]]:
    """Recording rows in id order (ids sort like ULIDs), due ones scattered over the whole range."""
    rng = random.Random(seed)
    first = NOW - timedelta(days=4 * 365)
    for number in range(count):
        recording_id = f"01BENCH{number:019d}"
        created = first + timedelta(seconds=number * (4 * 365 * 86400 // max(count, 1)))
        due = rng.random() < due_share
        retain_until = NOW - timedelta(days=rng.randint(1, 300)) if due else NOW + timedelta(days=rng.randint(1, 900))
        yield (
            recording_id, "bench", recording_id, created, 60.0, "inbound", "billing", "agent-1", "fi", 2, "left",
            "wav", "pcm_mulaw", 8000, len(ORIGINAL), "0" * 64, f"originals/{created:%Y/%m}/{recording_id}", b"k",
            1, True, False, "transcribed", '["training"]', retain_until, False, False, created, created,
            name_key("billing"), name_key("agent-1"),
        )  # fmt: skip


def seed_rows(engine: Engine, rows: list[tuple[Any, ...]], derived: list[tuple[str, str, str]]) -> None:
    """COPY the recording rows and, for each (recording id, key, version id) of `derived`, its row."""
    connection = engine.raw_connection()
    try:
        driver: Any = connection.driver_connection
        with driver.cursor() as cursor:
            with cursor.copy(f"COPY recordings ({RECORDING_COLUMNS}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            columns = "id, recording_id, key, version_id, created_at"
            with cursor.copy(f"COPY derived_versions ({columns}) FROM STDIN") as copy:
                for recording_id, key, version_id in derived:
                    copy.write_row((new_id(), recording_id, key, version_id, NOW))
        driver.commit()
        driver.autocommit = True
        with driver.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE recordings")
            cursor.execute("VACUUM ANALYZE derived_versions")
    finally:
        connection.close()


def cpu_snapshot() -> Snapshot:
    """CPU time used so far by this process, the embedded SeaweedFS (its child) and every PostgreSQL process."""
    me = psutil.Process()
    children = {child.pid for child in me.children(recursive=True)}

    def kind_of(process: psutil.Process) -> str | None:
        if process.pid == me.pid:
            return "bench"
        return "SeaweedFS" if process.pid in children else "PostgreSQL"

    postgres = [process for process in psutil.process_iter(["name"]) if process.info["name"] == "postgres"]
    return snapshot([me, *me.children(recursive=True), *postgres], kind_of)


def upload(store: S3ObjectStore, objects: list[tuple[str, bytes]]) -> list[tuple[str, str]]:
    """Put each object from a thread pool; returns (key, version id) of each."""
    client: Any = store._client

    def put(item: tuple[str, bytes]) -> tuple[str, str]:
        key, body = item
        return key, client.put_object(Bucket=store.bucket, Key=key, Body=body)["VersionId"]

    with ThreadPoolExecutor(UPLOAD_THREADS) as pool:
        return list(pool.map(put, objects))


def raw_delete(store: S3ObjectStore, versions: list[tuple[str, str]]) -> float:
    """The baseline: DeleteObjects of these versions, 1000 a call (the S3 maximum), one after another."""
    client: Any = store._client
    started = time.perf_counter()
    for offset in range(0, len(versions), 1000):
        chunk = versions[offset : offset + 1000]
        answer = client.delete_objects(
            Bucket=store.bucket,
            Delete={"Objects": [{"Key": key, "VersionId": version} for key, version in chunk], "Quiet": True},
        )
        if answer.get("Errors"):
            raise RuntimeError(f"raw delete failed: {answer['Errors'][:3]}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--due-share", type=float, default=0.1)
    parser.add_argument("--batch", type=int, default=500, help="due ids read per query (jobs.retention.BATCH)")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    args = parser.parse_args()

    schema_name = "bench_retention_" + secrets.token_hex(4)
    admin = make_engine(args.database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema_name}"))
    separator = "&" if "?" in args.database_url else "?"
    with tempfile.TemporaryDirectory(prefix="callvault-bench-") as tmp:
        root = Path(tmp)
        database_url = f"{args.database_url}{separator}options=-csearch_path%3D{schema_name}"
        try:
            with bench_runtime(root, database_url=database_url) as runtime:
                store = runtime.store
                assert isinstance(store, S3ObjectStore)
                began = time.perf_counter()
                rows = list(synthetic_calls(args.calls, args.due_share))
                due = sum(1 for row in rows if row[23] < NOW)
                # Each row keeps its original's version id and its derivative's, as the services record them.
                originals = upload(store, [(row[16], ORIGINAL) for row in rows])
                derived = upload(store, [(f"derived/{row[0]}/peaks.json", DERIVED) for row in rows])
                print(f"{2 * len(rows)} objects uploaded in {time.perf_counter() - began:.1f} s", flush=True)
                began = time.perf_counter()
                versioned = [(*row, version, True) for row, (_key, version) in zip(rows, originals, strict=True)]
                seed_rows(
                    runtime.engine,
                    versioned,
                    [(row[0], key, version) for row, (key, version) in zip(rows, derived, strict=True)],
                )
                print(f"{args.calls} recordings ({due} due) copied in {time.perf_counter() - began:.1f} s", flush=True)
                baseline_versions = upload(store, [(f"bench-raw/{number:08d}", DERIVED) for number in range(2 * due)])

                cpu_before = cpu_snapshot()
                report = sweep(runtime.sessions, store, now=NOW, batch=args.batch, actor=ACTOR, dry_run=False)
                cpu = used_between(cpu_before, cpu_snapshot())
                sweep_s = report.wall_s
                began = time.perf_counter()
                with runtime.sessions() as session:
                    proof = check_retention(session, store, now=NOW)
                    deleted = session.scalar(
                        select(func.count()).select_from(Recording).where(Recording.status == "deleted")
                    )
                check_s = time.perf_counter() - began
                raw_s = raw_delete(store, baseline_versions)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f"DROP SCHEMA {schema_name} CASCADE"))
            admin.dispose()

    swept = len(report.recording_ids)
    rate = swept / sweep_s
    projected = 100_000 / rate
    objects_deleted = report.counts["object_versions"]
    raw_rate = len(baseline_versions) / raw_s
    print(
        f"sweep      : {swept} recordings deleted in {sweep_s:.1f} s = {rate:.1f} recordings/s"
        f" ({objects_deleted} object versions, {objects_deleted / sweep_s:.0f}/s); failed={report.counts['failed']}"
    )
    print(
        f"phases     : batch transactions {report.phase_s['database']:.1f} s; waiting for the store after them"
        f" {report.phase_s['store_wait']:.1f} s (its listing and deleting overlap the next batch's transaction)"
    )
    print(
        "cpu        : "
        + ", ".join(f"{name} {used:.1f} s ({used / sweep_s:.0%})" for name, used in cpu.items())
        + f" of {os.cpu_count()} cores during the sweep"
    )
    print(
        f"projected  : 100 000 due recordings in {projected:.0f} s"
        f" (goal < {GOAL_S:.0f} s: {'met' if projected < GOAL_S else 'NOT met'})"
    )
    print(
        f"raw delete : {len(baseline_versions)} versions in {raw_s:.2f} s = {raw_rate:.0f}/s"
        " (DeleteObjects, 1000 a call)"
    )
    print(f"ratio      : sweep object rate / raw = {objects_deleted / sweep_s / raw_rate:.2f}x")
    print(f"check      : overdue={proof.overdue} orphans={proof.orphans} in {check_s:.1f} s;"
          f" deleted rows={deleted} of {due} due")  # fmt: skip


if __name__ == "__main__":
    main()
