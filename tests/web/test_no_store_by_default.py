"""Every answer of the app but a static file is uncacheable (ASVS 8.2.1), not only the views marked one by one.

Found by a security pass: `/queues` (agents and their scores), `/api/v1/recordings` and `/api/v1/search` (customer
and agent refs), a training clip's transcript and `/api/v1/subject-requests` (customer refs) carried no
Cache-Control, so a browser or a proxy could keep them after the session ended."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service.models.account import Role
from tests.factories.accounts import make_user
from tests.factories.recordings import make_token
from tests.factories.staff import client_of


@pytest.mark.parametrize(
    ("role", "scope", "path"),
    [
        (Role.QA_SUPERVISOR, "read", "/api/v1/recordings"),
        (Role.QA_SUPERVISOR, "read", "/api/v1/search?q=lasku"),
        (Role.COMPLIANCE, "compliance", "/api/v1/subject-requests"),
    ],
)
def test_api_answers_are_not_stored(client: FlaskClient, session: Session, role: str, scope: str, path: str) -> None:
    bearer = {"Authorization": "Bearer " + make_token(session, role=role, scope=scope)}
    answer = client.get(path, headers=bearer)
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"


def test_pages_and_errors_are_not_stored_and_static_files_keep_their_caching(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    supervisor = client_of(app, make_user(session, role=Role.QA_SUPERVISOR))
    queues = supervisor.get("/queues")
    missing = supervisor.get("/api/v1/recordings/01JZZZZZZZZZZZZZZZZZZZZZZZ")
    script = client.get("/static/confirm.js")

    assert queues.status_code == 200 and queues.headers["Cache-Control"] == "no-store"
    assert missing.status_code == 404 and missing.headers["Cache-Control"] == "no-store"
    assert script.status_code == 200 and "no-store" not in script.headers.get("Cache-Control", "")
