"""The first read that shows a trainer an agent's pseudonym makes the pseudonym key, with the database as deployed:
every session on a connection of its own (on SQLite, one writer at a time), not the tests' shared connection."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import delete, event
from sqlalchemy.orm import Session

from recordings_service.config import Settings
from recordings_service.models import ApiToken, TrainingSecret, User
from recordings_service.models.account import Role
from recordings_service.runtime import Runtime
from tests.factories.recordings import (
    LIVE_SOURCE,
    committed_runtime,  # noqa: F401  (a fixture)
    make_recording,
    make_token,
)
from tests.factories.training import bearer
from web import create_app

AGENT = "agent-first-use"


def _short_lock_wait(dbapi_connection: Any, _record: Any) -> None:
    """A lock held by the request itself is never released while it waits: fail in a second, not in thirty."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.execute("PRAGMA busy_timeout=1000")


@pytest.fixture
def live(committed_runtime: Runtime) -> Iterator[Runtime]:  # noqa: F811  (the fixture imported above)
    event.listen(committed_runtime.engine, "connect", _short_lock_wait)
    yield committed_runtime
    with committed_runtime.sessions() as session:
        trainers = select_trainers(session)
        session.execute(delete(ApiToken).where(ApiToken.user_id.in_(trainers)))
        session.execute(delete(User).where(User.id.in_(trainers)))
        session.commit()


def select_trainers(session: Session) -> list[str]:
    return [user.id for user in session.query(User).filter(User.username.startswith("trainer-"))]


@pytest.mark.parametrize("path", ["/api/v1/recordings/{id}", "/api/v1/recordings?queue=first-use-{id}"])
def test_a_trainers_first_metadata_read_answers_with_the_agents_pseudonym(
    live: Runtime, settings: Settings, path: str
) -> None:
    with live.sessions() as session:
        # No key yet, as on a new installation before any trainer has seen an agent.
        session.execute(delete(TrainingSecret))
        session.commit()
        token = make_token(session, role=Role.TRAINER, scope="read")
        call = make_recording(
            session, live.store, live.envelope, source=LIVE_SOURCE + "-first-use", agent_ref=AGENT, queue="q"
        )
        call.queue = f"first-use-{call.id}"
        session.commit()
    client = create_app(settings, runtime=live).test_client()

    response = client.get(path.format(id=call.id), headers=bearer(token))

    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    shown = body["agent_ref"] if "agent_ref" in body else body["items"][0]["agent_ref"]
    assert shown.startswith("agent-") and shown != AGENT
    again = client.get(path.format(id=call.id), headers=bearer(token)).get_json()
    assert (again["agent_ref"] if "agent_ref" in again else again["items"][0]["agent_ref"]) == shown
