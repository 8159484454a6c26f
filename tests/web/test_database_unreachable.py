"""A database that cannot be reached (down, restarting, refusing connections, its connection limit reached) is an
outage, as a lost connection is: 503 with Retry-After, JSON to the API and the error page to a browser. It was a 500
with a traceback, which a telephony client takes as its call refused for good (a deployment pass's finding)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.db import make_engine, make_sessionmaker
from recordings_service.runtime import Runtime
from tests.factories.accounts import login, make_user
from tests.factories.recordings import call_metadata, post_ingest
from tests.live_server import free_port


@pytest.fixture
def unreachable(app: Flask, runtime: Runtime, db_kind: str, tmp_path: Path) -> Iterator[Runtime]:
    """A runtime whose database refuses every connection: nothing listens on its PostgreSQL port, or its SQLite file
    lies in a folder that does not exist."""
    if db_kind == "postgresql":
        url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test"
    else:
        url = f"sqlite:///{tmp_path / 'gone' / 'callvault.db'}"
    engine = make_engine(url)
    yield replace(runtime, engine=engine, sessions=make_sessionmaker(engine))
    engine.dispose()


def test_an_ingest_and_a_page_are_told_to_come_back(
    app: Flask, client: FlaskClient, session: Session, unreachable: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    login(client, make_user(session))  # a session cookie; the page then reads its account from the database
    app.extensions["callvault"] = unreachable
    ingest = post_ingest(client, "cvt_" + "x" * 40, call_metadata())
    assert ingest.status_code == 503, ingest.get_data(as_text=True)
    assert ingest.get_json()["error"] == "unavailable"
    assert ingest.headers["Retry-After"]
    page = client.get("/calls/", headers={"Accept": "text/html"})
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert "unhandled error" not in caplog.text
    assert "database unavailable" in caplog.text
