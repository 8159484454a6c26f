"""A call's trail lists the searches that showed its words (named only in the search event's details): through the
object id filter of the audit page and export, and in the evidence package; migration 0032 links older searches."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from flask.testing import FlaskClient
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from recordings_service import audit, audit_search, schema
from recordings_service.audit import Actor
from recordings_service.audit_search import EventFilter
from recordings_service.calls.evidence import export_evidence
from recordings_service.calls.search import search_calls
from recordings_service.db import make_engine, new_id, utcnow
from recordings_service.models import AuditEvent, AuditEventRecording
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.conftest import private_postgres_schema
from tests.factories.accounts import login, make_user
from tests.factories.search import on_day, random_day, transcribed_call

QA = Actor(id=None, name="qa", role=Role.QA_SUPERVISOR)
COMPLIANCE = Actor(id=None, name="compliance", role=Role.COMPLIANCE)
BEFORE = "0031_research_closed_reason"


def searched(session: Session, day: datetime, query: str, *, snippets: bool = True) -> AuditEvent:
    search_calls(session, actor=QA, query=query, filters=on_day(day), snippets=snippets)
    event = session.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))
    assert event is not None and event.action == "recording.searched"
    return event


def trail(session: Session, object_id: str) -> list[str]:
    return [event.id for event in audit_search.iter_events(session, filters=EventFilter(object_id=object_id))]


def test_a_search_that_showed_a_calls_words_is_in_its_trail_and_no_other(
    session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    day = random_day()
    lines = ["I want to cancel my contract.", "The invoice is due."]
    call = transcribed_call(session, store, envelope, started_at=day, lines=lines)
    other = transcribed_call(session, store, envelope, started_at=day + timedelta(minutes=5), lines=["An invoice."])
    own = audit.record_event(session, actor=QA, action="recording.viewed", object_type="recording", object_id=call.id)
    showed_it = searched(session, day, "contract")
    showed_both = searched(session, day, "invoice")
    searched(session, day, "invoice", snippets=False)  # listed, no words shown
    searched(session, day, "")  # metadata only

    assert showed_it.details["snippet_recordings"] == call.id
    assert trail(session, call.id) == [own.id, showed_it.id, showed_both.id]  # in seq order, each once
    assert trail(session, call.id.lower()) == [own.id, showed_it.id, showed_both.id]
    assert trail(session, other.id) == [showed_both.id]
    assert audit_search.count_events(session, filters=EventFilter(object_id=call.id, action="recording.searched")) == 2
    newest = audit_search.find_events(session, filters=EventFilter(object_id=call.id, object_type="recording"), limit=2)
    assert [event.id for event in newest] == [showed_both.id, showed_it.id]
    assert audit_search.find_events(session, filters=EventFilter(object_id=call.id, object_type="user")) == []


def test_the_evidence_trail_holds_the_searches_that_showed_the_calls_words(
    session: Session, store: S3ObjectStore, envelope: Envelope, tmp_path: Path
) -> None:
    day = random_day()
    call = transcribed_call(session, store, envelope, started_at=day, lines=["I agree to that."])
    other = transcribed_call(session, store, envelope, started_at=day + timedelta(minutes=5), lines=["Nothing else."])
    showed_it = searched(session, day, "agree")
    showed_other = searched(session, day, "nothing")
    assert showed_other.details["snippet_recordings"] == other.id

    package = io.BytesIO()
    export_evidence(
        session,
        store,
        envelope,
        actor=COMPLIANCE,
        recording_id=call.id,
        destination=package,
        work_dir=tmp_path,
        zone=UTC,
    )

    with zipfile.ZipFile(package) as archive:
        events = json.loads(archive.read("audit_trail.json"))
    searches = [event for event in events if event["action"] == "recording.searched"]
    assert [event["id"] for event in searches] == [showed_it.id]
    assert searches[0]["details"]["snippet_recordings"] == call.id
    assert searches[0]["hash"] == showed_it.hash  # as chained: the link is not part of the event
    assert [event["seq"] for event in events] == sorted(event["seq"] for event in events)


def test_the_audit_export_filtered_by_a_calls_id_lists_the_searches_that_showed_its_words(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    day = random_day()
    call = transcribed_call(session, store, envelope, started_at=day, lines=["Cancel my contract."])
    showed_it = searched(session, day, "contract")
    searched(session, day, "refund")
    login(client, make_user(session, role=Role.COMPLIANCE))

    exported = client.get(f"/audit/export.csv?object_id={call.id.lower()}&action=recording.searched")

    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert [row["seq"] for row in rows] == [str(showed_it.seq)]
    page = client.get(f"/audit/?object_id={call.id}").get_data(as_text=True).split("<tbody>")[1]
    assert "recording.searched" in page


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_before(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database of each kind migrated to the revision before the links (through head and back down)."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
            schema.upgrade(engine)
        else:
            engine = make_engine(stack.enter_context(private_postgres_schema("t_links_")))
        stack.callback(engine.dispose)
        _migrate(engine, down_to=BEFORE)
        yield engine


def _migrate(engine: Engine, *, down_to: str | None = None) -> None:
    config = schema.alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        if down_to:
            command.downgrade(config, down_to)
        else:
            command.upgrade(config, "heads")


def _event(seq: int, action: str, details: dict[str, object]) -> dict[str, object]:
    return {
        "id": new_id(),
        "seq": seq,
        "occurred_at": utcnow(),
        "action": action,
        "object_type": "recording",
        "details": details,
        "prev_hash": f"{seq - 1:064d}",
        "hash": f"{seq:064d}",
    }


def test_the_migration_links_the_searches_already_in_the_trail(database_before: Engine) -> None:
    calls = [new_id() for _ in range(3)]
    rows = [
        _event(1, "recording.searched", {"snippet_recordings": f"{calls[0]},{calls[1]}"}),
        _event(2, "recording.searched", {"snippet_recordings": ""}),
        _event(3, "recording.viewed", {"snippet_recordings": calls[2]}),  # not a search: its details name nothing
        _event(4, "recording.searched", {"results": 0}),  # before snippets were named
        _event(5, "recording.searched", {"snippet_recordings": calls[1]}),
    ]
    with database_before.begin() as connection:
        connection.execute(insert(AuditEvent), rows)

    _migrate(database_before)

    with Session(database_before) as session:
        linked = session.execute(
            select(AuditEventRecording.recording_id, AuditEvent.seq)
            .join(AuditEvent, AuditEvent.id == AuditEventRecording.event_id)
            .order_by(AuditEvent.seq, AuditEventRecording.recording_id)
        ).all()
        assert [tuple(row) for row in linked] == sorted([(calls[0], 1), (calls[1], 1), (calls[1], 5)], key=_by_seq)
        assert [event.seq for event in audit_search.iter_events(session, filters=EventFilter(object_id=calls[1]))] == [
            1,
            5,
        ]


def _by_seq(row: tuple[str, int]) -> tuple[int, str]:
    return row[1], row[0]
