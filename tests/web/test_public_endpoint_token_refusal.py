"""Found by a security review: a revoked or expired API token sent to a public endpoint (the API's description,
/healthz) was not audited, while the same token on a protected endpoint was (`token.refused`): a leaked credential
could be tried there unnoticed. A public endpoint now records the refusal and answers as it would without the token;
a request without a bearer token, or with a live one, writes nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from recordings_service import tokens
from recordings_service.config import Settings
from recordings_service.db import make_engine, utcnow
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.accounts import SYSTEM, make_user
from tests.factories.audit import events, newest_seq
from web import create_app

PUBLIC = ("/api/v1/openapi.json", "/healthz")


def test_a_refused_token_on_a_public_endpoint_is_audited_and_the_answer_unchanged(app: Flask, session: Session) -> None:
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    live, live_plain = tokens.create_token(session, actor=SYSTEM, user=supervisor, scope="read")
    revoked, revoked_plain = tokens.create_token(session, actor=SYSTEM, user=supervisor, scope="read")
    tokens.revoke_token(session, actor=SYSTEM, token_id=revoked.id)
    expired, expired_plain = tokens.create_token(session, actor=SYSTEM, user=supervisor, scope="read")
    expired.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    client = app.test_client()
    answers = {path: client.get(path).status_code for path in PUBLIC}
    after = newest_seq(session)

    for plain in (revoked_plain, expired_plain):
        for path in PUBLIC:
            assert client.get(path, headers={"Authorization": f"Bearer {plain}"}).status_code == answers[path]

    refused = events(session, "token.refused", after=after)
    assert [(event.object_id, event.details["reason"]) for event in refused] == [
        (revoked.id, "revoked"),
        (revoked.id, "revoked"),
        (expired.id, "expired"),
        (expired.id, "expired"),
    ]
    assert {(event.role, event.actor_id) for event in refused} == {("anonymous", None)}

    # Nothing for a request without a bearer token, nor for a live one.
    after = newest_seq(session)
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": f"Bearer {live_plain}"}):
        for path in PUBLIC:
            assert client.get(path, headers=headers).status_code == answers[path]
    assert newest_seq(session) == after
    assert live.revoked_at is None


@pytest.mark.parametrize("down", ["postgresql+psycopg://nobody@127.0.0.1:1/none", "sqlite:///{tmp}/empty.db"])
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
@pytest.mark.parametrize("method", ["get", "head"])
def test_health_answers_the_same_with_a_token_while_the_database_is_down_or_empty(
    runtime: Runtime, settings: Settings, tmp_path: Path, down: str, path: str, method: str
) -> None:
    """Found by a review: with a bearer token (a monitor that sends one), the token's lookup on a database that is
    down, or not migrated yet, made /healthz and /readyz a 500 where they answer 200 and 503 without it."""
    engine = make_engine(down.format(tmp=tmp_path))
    unreachable = replace(runtime, engine=engine, sessions=sessionmaker(engine))
    app = create_app(settings, runtime=unreachable)
    app.testing = False  # answered as in production, not raised into the test
    client = app.test_client()

    plain = getattr(client, method)(path).status_code
    with_token = getattr(client, method)(path, headers={"Authorization": "Bearer cvt_not_a_token"}).status_code

    assert plain == with_token and plain in (200, 503), (plain, with_token)
    engine.dispose()
