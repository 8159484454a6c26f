"""Reading back what the audit trail recorded, and `callvault audit verify` run as the operator runs it (the
`verify` fixture, registered in tests/conftest.py's `pytest_plugins`)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import AuditEvent
from recordings_service.runtime import Runtime
from web import cli, cli_support


def events(session: Session, action: str, object_id: str | None = None) -> list[AuditEvent]:
    """The `action` events (about `object_id`, when given), oldest first."""
    query = select(AuditEvent).where(AuditEvent.action == action)
    if object_id is not None:
        query = query.where(AuditEvent.object_id == object_id)
    return list(session.scalars(query.order_by(AuditEvent.seq)))


@pytest.fixture
def verify(monkeypatch: pytest.MonkeyPatch) -> Callable[[Runtime], Result]:
    def invoke(runtime: Runtime) -> Result:
        monkeypatch.setattr(cli_support, "load_runtime", lambda: runtime)
        return CliRunner().invoke(cli.main, ["audit", "verify"])

    return invoke
