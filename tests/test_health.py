"""Liveness and readiness, against the real store and both databases."""

from __future__ import annotations

import secrets
import socket
import time
from dataclasses import replace

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import sessionmaker

from recordings_service import schema
from recordings_service.config import Settings
from recordings_service.db import make_engine
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore, make_client
from web import create_app


def test_healthz_answers_without_login(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_reports_every_part_ok(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {
        "db": "ok",
        "store": "ok",
        "migrations": "head",
        "anchors": "object-lock compliance",
    }


def test_readyz_is_503_naming_the_store_when_it_does_not_answer(runtime: Runtime, settings: Settings) -> None:
    dead = replace(settings, s3_endpoint="http://127.0.0.1:9")
    broken = replace(runtime, store=S3ObjectStore(make_client(dead), settings.s3_bucket))
    response = create_app(settings, runtime=broken).test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["store"].startswith("error")
    assert body["db"] == "ok"


def test_readyz_answers_within_seconds_when_the_store_hangs(runtime: Runtime, settings: Settings) -> None:
    """Found by exploratory testing of the inbox: a store that accepts connections and never answers (a frozen
    SeaweedFS) held each /readyz for six minutes (two minutes' read timeout, three attempts), and a load balancer's
    probes took every thread of the web workers meanwhile. The store's quick questions now give up after seconds."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)  # connections are accepted by the kernel, and nothing is ever read or answered
        hung = replace(settings, s3_endpoint=f"http://127.0.0.1:{silent.getsockname()[1]}")
        app = create_app(settings, runtime=replace(runtime, store=S3ObjectStore.from_settings(hung)))
        began = time.monotonic()
        response = app.test_client().get("/readyz")
        waited = time.monotonic() - began
    assert response.status_code == 503 and response.get_json()["store"].startswith("error")
    assert waited < 15


@pytest.mark.parametrize("applied", [None, "0001_foundation"])
def test_readyz_is_503_when_migrations_are_pending(
    runtime: Runtime, settings: Settings, tmp_path, applied: str | None
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'behind.db'}")
    if applied:
        schema.upgrade(engine, applied)
    unmigrated = Runtime(
        settings=settings,
        engine=engine,
        sessions=sessionmaker(engine),
        store=runtime.store,
        envelope=Envelope(settings.master_key),
    )
    response = create_app(settings, runtime=unmigrated).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["migrations"] == "pending"


def test_readyz_is_503_for_a_bucket_that_keeps_no_versions(runtime: Runtime, settings: Settings) -> None:
    """Found by a deployment pass: a mistyped CALLVAULT_S3_BUCKET was created, unversioned, by the store's first
    write, and readiness said `store: ok` from then on; deletions there would leave versions behind."""
    unversioned = f"cv-unversioned-{secrets.token_hex(4)}"
    client = make_client(settings)
    client.create_bucket(Bucket=unversioned)
    try:
        store = S3ObjectStore.from_settings(replace(settings, s3_bucket=unversioned))
        response = create_app(settings, runtime=replace(runtime, store=store)).test_client().get("/readyz")
        assert response.status_code == 503
        assert response.get_json()["store"] == f"error: object store: versioning is not enabled on bucket {unversioned}"
    finally:
        client.delete_bucket(Bucket=unversioned)
