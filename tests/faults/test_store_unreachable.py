"""An object store that does not answer is `Unavailable` (503 with `Retry-After`), not a provider exception (500).

Fast: a real S3 client pointed at a port nobody listens on. The 30 s outage under load is
test_store_outage.py.
"""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.config import Settings
from recordings_service.errors import Unavailable
from recordings_service.models import Recording
from recordings_service.runtime import Runtime
from recordings_service.storage.object_store import S3ObjectStore, make_client
from tests.factories.recordings import call_metadata, make_token, post_ingest
from tests.live_server import free_port
from web import create_app


@pytest.fixture
def dead_store(base_settings: Settings) -> S3ObjectStore:
    settings = replace(base_settings, s3_endpoint=f"http://127.0.0.1:{free_port()}")
    return S3ObjectStore(make_client(settings), settings.s3_bucket)


def test_every_store_call_reports_an_unreachable_store_as_unavailable(dead_store: S3ObjectStore) -> None:
    key = "originals/2026/01/unreachable"
    calls = {
        "put": lambda: dead_store.put(key, io.BytesIO(b"sealed")),
        "get": lambda: dead_store.get(key),
        "head": lambda: dead_store.head(key),
        "delete": lambda: dead_store.delete(key),
        "list": lambda: list(dead_store.list("originals/")),
        "list_versions": lambda: list(dead_store.list_versions("originals/")),
    }
    for name, call in calls.items():
        with pytest.raises(Unavailable, match="unreachable"):
            call()
        print(f"{name}: Unavailable")


def test_ingest_while_the_store_is_unreachable_is_503_with_retry_after_and_stores_nothing(
    runtime: Runtime, dead_store: S3ObjectStore, session: Session
) -> None:
    app: Flask = create_app(runtime.settings, runtime=replace(runtime, store=dead_store))
    app.config.update(TESTING=True)
    token = make_token(session)
    metadata = call_metadata()
    response = post_ingest(app.test_client(), token, metadata)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.get_json()["error"] == "unavailable"
    call_id = metadata["external_call_id"]
    assert session.scalar(select(func.count()).select_from(Recording).where(Recording.external_call_id == call_id)) == 0
