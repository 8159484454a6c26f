"""What an ingest asks of the database: every statement is a round trip on PostgreSQL, made for every call the
telephony system sends (#17). Counted on both databases against the real store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

from recordings_service.audit import record_event
from recordings_service.config import Settings
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import SYSTEM
from tests.factories.recordings import ingest_file

# Looking the call up; the savepoint and its release; the customer; its row lock; the retention policies; the
# customer's holds and restrictions; the recording; its transcription job; the audit event (the chain's head taken,
# the event, the head moved on).
STATEMENTS = 12


@contextmanager
def counted(session: Session, connection: Connection) -> Iterator[list[str]]:
    session.connection()  # the test's own transaction begun first: its savepoint is not the ingest's
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement.split("\n", maxsplit=1)[0][:120])

    event.listen(connection, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", seen)


def test_an_ingest_makes_twelve_statements_and_one_more_for_a_known_customer(
    session: Session, connection: Connection, store: S3ObjectStore, envelope: Envelope, settings: Settings
) -> None:
    """A new customer was inserted and then read back, a transcription job looked for where none can be yet, and
    the customer's holds and restrictions read one by one: 15 statements where 12 do."""
    # The chain's head names this session's key already: the first event a key signs after another's registers it.
    record_event(session, actor=SYSTEM, action="recording.viewed", object_type="recording", object_id="r1")
    with counted(session, connection) as first:
        new = ingest_file(session, store, envelope, settings, customer_ref="cust-statements")
    with counted(session, connection) as second:
        known = ingest_file(session, store, envelope, settings, customer_ref="cust-statements")

    assert new.created and known.created
    assert new.recording.customer_id == known.recording.customer_id
    assert len(first) == STATEMENTS, first
    assert len(second) == STATEMENTS + 1, second  # the customer is there: its id is read after the insert did nothing
