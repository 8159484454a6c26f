"""Reading back what the audit trail recorded, and `callvault audit verify` run as the operator runs it (the
`verify` fixture, registered in tests/conftest.py's `pytest_plugins`)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.models import AuditEvent
from recordings_service.runtime import Runtime
from web import cli, cli_support


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
        monkeypatch.setattr(cli_support, "load_runtime", lambda: runtime)
        return CliRunner().invoke(cli.main, ["audit", "verify"])

    return invoke
