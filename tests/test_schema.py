"""The database schema: migrations and models agree on both backends; the audit table is append-only."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from recordings_service import schema


def test_migrations_reach_every_head(engine: Engine) -> None:
    assert schema.current_revisions(engine) == schema.head_revisions()


def test_models_and_migrations_agree(engine: Engine) -> None:
    """Autogenerate against the migrated database finds nothing: no model change lacks a migration."""
    assert schema.pending_model_changes(engine) == []


def test_upgrade_is_idempotent(engine: Engine) -> None:
    schema.upgrade(engine)
    assert schema.current_revisions(engine) == schema.head_revisions()


@pytest.mark.postgres
def test_postgres_refuses_edits_and_deletions_of_audit_events_and_their_links(pg_engine: Engine) -> None:
    # A schema of its own: the event and link it commits can never be removed (that is what it tests), and in the
    # schema other tests share, every later verify of the whole trail found that unsigned link and failed.
    engine = pg_engine
    from sqlalchemy.orm import Session

    from recordings_service.audit import record_event
    from recordings_service.db import new_id
    from recordings_service.models import AuditEventRecording
    from tests.factories.accounts import SYSTEM

    with Session(engine) as session:
        event = record_event(session, actor=SYSTEM, action="test.trigger")
        session.add(AuditEventRecording(event_id=event.id, recording_id=new_id()))
        session.commit()
        event_id = event.id
    for statement in (
        "UPDATE audit_events SET action = 'edited' WHERE id = :id",
        "DELETE FROM audit_events WHERE id = :id",
        # With the links that reference it: a TRUNCATE of the events alone is refused for them first.
        "TRUNCATE audit_events, audit_event_recordings",
        # The links that list a search in a call's trail are kept as the events are (migration 0032).
        "UPDATE audit_event_recordings SET recording_id = 'edited' WHERE event_id = :id",
        "DELETE FROM audit_event_recordings WHERE event_id = :id",
        "TRUNCATE audit_event_recordings",
    ):
        with engine.connect() as connection, pytest.raises(DBAPIError, match="append-only"):
            connection.execute(text(statement), {"id": event_id})
