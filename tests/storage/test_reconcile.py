"""Reconcile: orphans (objects without rows) go, rows without objects are flagged; crashes leave neither."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import threading
import time
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from jobs.ingest import reconcile
from recordings_service.config import Settings
from recordings_service.db import new_id, utcnow
from recordings_service.models import ApiToken, AuditChainHead, AuditEvent, Recording
from recordings_service.originals import original_sha256
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from recordings_service.storage.reconcile import reconcile_storage
from recordings_service.storage.spool import purge_stale_spools, spool_dir
from recordings_service.tokens import digest
from tests.factories.recordings import (
    LIVE_SOURCE,
    STEREO,
    TEST_ACTOR,
    call_metadata,
    committed_runtime,  # noqa: F401  (a fixture)
    ingest_file,
    make_token,
    post_ingest,
)
from tests.live_server import LiveServer, MultipartBody, live_server, post_recording

LATER = timedelta(hours=2)  # past the one-hour grace: every orphan is old enough to go


def assert_consistent(session: Session, store: S3ObjectStore, envelope: Envelope) -> None:
    """Every live row has its object, decrypting to its SHA-256; every object has a row."""
    rows = session.scalars(select(Recording).where(Recording.status != "missing_object")).all()
    keys = {info.key for info in store.list("originals/")}
    for row in rows:
        assert row.storage_key in keys
        assert original_sha256(store, envelope, row) == row.sha256
    assert keys <= {row.storage_key for row in rows}


def test_orphans_wait_out_the_grace_period_then_go(session: Session, store: S3ObjectStore) -> None:
    orphan = f"originals/2020/01/{new_id()}"
    store.put(orphan, io.BytesIO(b"sealed bytes of an upload whose commit never came"))
    fresh = reconcile_storage(session, store, actor=TEST_ACTOR, grace_s=3600)
    assert fresh.orphans_waiting >= 1
    assert orphan in {info.key for info in store.list("originals/2020/01/")}
    later = reconcile_storage(session, store, actor=TEST_ACTOR, grace_s=3600, now=utcnow() + LATER)
    assert later.orphans_deleted >= 1
    assert orphan not in {info.key for info in store.list("originals/2020/01/")}


def test_rows_whose_object_is_gone_are_flagged_and_audited(
    session: Session, store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    kept = ingest_file(session, store, envelope, settings).recording
    lost = ingest_file(session, store, envelope, settings).recording
    store.delete(lost.storage_key)
    report = reconcile_storage(session, store, actor=TEST_ACTOR, grace_s=3600, now=utcnow() + LATER)
    assert report.rows_missing_object >= 1
    assert (lost.status, kept.status) == ("missing_object", "stored")
    actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == lost.id)))
    assert "recording.object_missing" in actions
    assert_consistent(session, store, envelope)


def test_failure_between_upload_and_commit_is_repaired(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = make_token(session)
    before = {info.key for info in store.list("originals/")}

    real_commit = Session.commit

    def failing_commit(self: Session) -> None:
        if any(isinstance(obj, Recording) for obj in self.identity_map.values()):
            raise RuntimeError("the database connection dropped before commit")
        real_commit(self)

    monkeypatch.setattr(Session, "commit", failing_commit)
    response = post_ingest(client, token, call_metadata())
    monkeypatch.undo()
    assert response.status_code == 500
    assert len({info.key for info in store.list("originals/")} - before) == 1  # the orphan
    reconcile_storage(session, store, actor=TEST_ACTOR, grace_s=3600, now=utcnow() + LATER)
    assert_consistent(session, store, envelope)


def test_the_reconcile_job_logs_counts_and_purges_stale_spools(
    runtime: Runtime, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    stale = settings.data_dir / "tmp" / "upload-left-by-a-killed-worker"
    stale.parent.mkdir(exist_ok=True)
    stale.write_bytes(b"partial upload")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    with caplog.at_level(logging.INFO, logger="jobs.ingest"):
        reconcile(runtime)
    record = next(r for r in caplog.records if r.getMessage() == "storage reconciled")
    assert record.spools_removed >= 1  # type: ignore[attr-defined]
    assert {"objects_seen", "orphans_deleted", "rows_missing_object"} <= set(record.__dict__)
    assert not stale.exists()


@pytest.mark.slow
def test_killing_web_workers_mid_upload_leaves_nothing_reconcile_cannot_repair(
    committed_runtime: Runtime,  # noqa: F811  (the fixture imported above)
    settings: Settings,
    store: S3ObjectStore,
    envelope: Envelope,
) -> None:
    with committed_runtime.sessions() as session:
        token = make_token(session, source=f"{LIVE_SOURCE}-kill")
    spools_before = set(spool_dir(settings).glob("upload-*"))
    with live_server(settings) as server:
        # 1. The client is half-way through the body when the worker dies.
        body = MultipartBody(STEREO, call_metadata(source=f"{LIVE_SOURCE}-kill"))
        connection = server.connection(timeout=30)
        connection.putrequest("POST", "/api/v1/recordings")
        for name, value in {
            "Authorization": f"Bearer {token}",
            "Content-Type": body.content_type,
            "Content-Length": str(len(body)),
        }.items():
            connection.putheader(name, value)
        connection.endheaders()
        for chunk in body.chunks(limit=len(body) // 2):
            connection.send(chunk)
        time.sleep(0.5)
        old_workers = server.workers()
        server.kill_workers()
        connection.close()

        # 2. The worker dies once the encrypted original is in the store, before its row is committed.
        _wait_for_new_workers(server, old_workers)
        killed = _kill_once_an_original_is_stored(server, store, token, committed_runtime)

        # 3. Afterwards the server works as before (the killed workers' pids: a snapshot taken now may
        # already be the replacement).
        assert killed, "the upload never reached the store"
        _wait_for_new_workers(server, killed)
        status, _ = post_recording(server, token, MultipartBody(STEREO, call_metadata(source=f"{LIVE_SOURCE}-kill")))
        assert status == 201

    with committed_runtime.sessions() as session:
        reconcile_storage(session, store, actor=TEST_ACTOR, grace_s=3600, now=utcnow() + LATER)
        session.commit()
        assert_consistent(session, store, envelope)
    # The killed workers' spooled uploads: the reconcile job's purge removes them once past its grace (left here,
    # they were a stray file to every later test sharing this data folder).
    left = set(spool_dir(settings).glob("upload-*")) - spools_before
    assert left, "a worker killed mid-upload leaves its spool"
    purge_stale_spools(settings, older_than_s=3600, now=time.time() + LATER.total_seconds())
    assert not left & set(spool_dir(settings).glob("upload-*"))


def _kill_once_an_original_is_stored(
    server: LiveServer, store: S3ObjectStore, token: str, runtime: Runtime
) -> list[int]:
    """Send a call and kill the web workers once its original is in the store; the pids killed.

    The test holds the audit chain head's row lock meanwhile (on SQLite, the database's write lock), which every
    ingest writes after storing its original: the ingest waits there until the workers die, where a watcher looking
    at the store every few milliseconds saw, on a busy machine, whole ingests finish between two looks."""
    with runtime.sessions() as session:
        session.execute(update(ApiToken).where(ApiToken.token_hash == digest(token)).values(last_used_at=utcnow()))
        session.commit()  # the token's use is not written for a minute now: the ingest's first write is its own
    before = {info.key for info in store.list("originals/")}
    stop = threading.Event()
    killed: list[int] = []

    def kill_when_stored() -> None:
        while not stop.is_set():
            if {info.key for info in store.list("originals/")} - before:
                killed.extend(server.kill_workers())
                return
            time.sleep(0.005)

    watcher = threading.Thread(target=kill_when_stored)
    with runtime.engine.connect() as blocker:
        blocker.execute(select(AuditChainHead.id).where(AuditChainHead.id == 1).with_for_update())
        watcher.start()
        with contextlib.suppress(OSError):  # the connection dies with the worker
            post_recording(server, token, MultipartBody(STEREO, call_metadata(source=f"{LIVE_SOURCE}-kill")))
        stop.set()
        watcher.join()
        blocker.rollback()
    return killed


def _wait_for_new_workers(server: LiveServer, previous: list[int]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        workers = server.workers()
        if workers and not set(workers) & set(previous):
            time.sleep(1.0)  # the new worker imports the app before it accepts
            return
        time.sleep(0.1)
    raise AssertionError("gunicorn did not replace the killed worker")
