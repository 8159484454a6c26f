"""The security headers, value by value, on a page and on an API answer; a loosened policy fails here."""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from recordings_service import tokens
from recordings_service.config import Settings
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.accounts import SYSTEM, make_user
from web import create_app

# Written out rather than imported from web.security_headers, so that a change there has to change this too.
EXPECTED = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
HSTS = "max-age=31536000; includeSubDomains"


def client_for(settings: Settings, runtime: Runtime, *, https: bool) -> FlaskClient:
    app: Flask = create_app(replace(settings, https=https), runtime=runtime)
    app.config.update(TESTING=True)
    return app.test_client()


def api_headers(session: Session) -> dict[str, str]:
    officer = make_user(session, role=Role.COMPLIANCE)
    _, plain = tokens.create_token(session, actor=SYSTEM, user=officer, scope="read")
    session.flush()
    return {"Authorization": f"Bearer {plain}"}


def security_headers(response_headers: dict[str, str]) -> dict[str, str | None]:
    return {name: response_headers.get(name) for name in [*EXPECTED, "Strict-Transport-Security"]}


@pytest.mark.parametrize("https", [False, True], ids=["http", "https"])
def test_html_page_and_api_answer_carry_exactly_the_policy(
    settings: Settings, runtime: Runtime, session: Session, https: bool
) -> None:
    client = client_for(settings, runtime, https=https)
    expected = {**EXPECTED, "Strict-Transport-Security": HSTS if https else None}
    base_url = "https://localhost" if https else "http://localhost"
    page = client.get("/login", base_url=base_url)
    api = client.get("/api/v1/recordings", headers=api_headers(session), base_url=base_url)
    refused = client.get("/api/v1/recordings", base_url=base_url)
    assert (page.status_code, page.mimetype) == (200, "text/html")
    assert (api.status_code, api.mimetype) == (200, "application/json")
    assert (refused.status_code, refused.mimetype) == (401, "application/json")
    for response in (page, api, refused):
        assert security_headers(dict(response.headers)) == expected
