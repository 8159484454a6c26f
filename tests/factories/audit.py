"""Reading back what the audit trail recorded, and `callvault audit verify` run as the operator runs it (the
`verify` and `signed` fixtures, registered in tests/conftest.py's `pytest_plugins`)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import replace

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session, sessionmaker

from recordings_service.models import AuditEvent
from recordings_service.runtime import Runtime
from recordings_service.storage.object_store import S3ObjectStore, make_client
from web import cli, cli_support

AUDIT_KEY = secrets.token_urlsafe(32)


def events(session: Session, action: str, object_id: str | None = None, *, after: int = 0) -> list[AuditEvent]:
    """The `action` events (about `object_id`, when given; written after the event `after` names), oldest first."""
    query = select(AuditEvent).where(AuditEvent.action == action, AuditEvent.seq > after)
    if object_id is not None:
        query = query.where(AuditEvent.object_id == object_id)
    return list(session.scalars(query.order_by(AuditEvent.seq)))


def newest_seq(session: Session) -> int:
    """The newest event's `seq` (0 for an empty trail): the database is shared by a worker's test files, and what
    tests outside the test's transaction committed stays in it, so a test reads the trail from here on."""
    return session.scalar(select(func.max(AuditEvent.seq))) or 0


@pytest.fixture
def verify(monkeypatch: pytest.MonkeyPatch) -> Callable[[Runtime], Result]:
    def invoke(runtime: Runtime) -> Result:
        monkeypatch.setattr(cli_support, "load_runtime", lambda **_: runtime)
        return CliRunner().invoke(cli.main, ["audit", "verify"])

    return invoke


@pytest.fixture
def signed(runtime: Runtime, connection: Connection) -> Runtime:
    """A runtime on the test's transaction signing with `AUDIT_KEY`, with an anchor bucket of its own."""
    store = S3ObjectStore(make_client(runtime.settings), "anchors-" + secrets.token_hex(6))
    store.ensure_bucket()
    sessions = sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    return replace(runtime, settings=replace(runtime.settings, audit_key=AUDIT_KEY), sessions=sessions, store=store)
