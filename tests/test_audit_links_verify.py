"""`callvault audit verify` compares a call's links to the trail (`audit_event_recordings`) with what the signed
details name: the links are not signed themselves, and on SQLite no trigger keeps them append-only.

Found reviewing migration 0032: deleting a link took a search out of a call's trail, and adding one put an event into
another call's, while `audit verify` still said "intact".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from click.testing import Result
from sqlalchemy import delete, insert, select, text
from sqlalchemy.orm import Session

from recordings_service import audit
from recordings_service.audit import record_event
from recordings_service.db import new_id
from recordings_service.models import AuditEvent, AuditEventRecording
from recordings_service.runtime import Runtime
from tests.factories.accounts import SYSTEM
from tests.factories.audit import newest_seq

TRAIL_START = "trail_start"
CALLS = [new_id() for _ in range(3)]


@pytest.fixture
def trail(signed: Runtime, db_kind: str) -> Iterator[Session]:
    """Searches that showed calls' words and an event about one call, committed, the links open to edits."""
    with signed.sessions() as session:
        yield _with_editable_links(session, db_kind)


def _with_editable_links(session: Session, db_kind: str) -> Session:
    session.info[TRAIL_START] = newest_seq(session)  # what other tests committed before is not this trail
    record_event(session, actor=SYSTEM, action="recording.searched", details={"snippet_recordings": CALLS[0]})
    record_event(session, actor=SYSTEM, action="recording.viewed", object_type="recording", object_id=CALLS[2])
    both = f"{CALLS[0]},{CALLS[1]},{CALLS[0]}"  # a call named twice is linked once
    record_event(session, actor=SYSTEM, action="recording.searched", details={"snippet_recordings": both})
    record_event(session, actor=SYSTEM, action="recording.searched", details={"snippet_recordings": ""})
    session.commit()
    if db_kind == "postgresql":  # as a database superuser could: the append-only trigger and the foreign key off
        session.execute(text("SET LOCAL session_replication_role = replica"))
    else:  # the foreign key checked only at the outer commit, which this test never makes
        session.execute(text("PRAGMA defer_foreign_keys = ON"))
    return session


def searches(session: Session) -> list[AuditEvent]:
    since = session.info[TRAIL_START]
    query = select(AuditEvent).where(AuditEvent.action == "recording.searched", AuditEvent.seq > since)
    return list(session.scalars(query.order_by(AuditEvent.seq)))


def test_verify_of_untouched_links_exits_0(
    trail: Session, signed: Runtime, verify: Callable[[Runtime], Result]
) -> None:
    first, second, _ = searches(trail)
    linked = trail.execute(
        select(AuditEventRecording.event_id, AuditEventRecording.recording_id).where(
            AuditEventRecording.recording_id.in_(CALLS)
        )
    ).all()
    assert sorted(map(tuple, linked)) == sorted([(first.id, CALLS[0]), (second.id, CALLS[0]), (second.id, CALLS[1])])
    assert audit.verify_links(trail, batch_size=1) is None

    result = verify(signed)

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("intact (")


def link(event_id: str, recording_id: str) -> dict[str, str]:
    return {"event_id": event_id, "recording_id": recording_id}


# Each edit of the links, and the event the break names (an index into the trail's events, oldest first).
EDITS: dict[str, tuple[Callable[[Session, list[AuditEvent]], object], int]] = {
    "link deleted": (
        lambda session, events: session.execute(
            delete(AuditEventRecording).where(
                AuditEventRecording.event_id == events[2].id, AuditEventRecording.recording_id == CALLS[1]
            )
        ),
        2,
    ),
    "link added to a search": (
        lambda session, events: session.execute(insert(AuditEventRecording), [link(events[3].id, CALLS[2])]),
        3,
    ),
    "link added to an event naming no call": (
        lambda session, events: session.execute(insert(AuditEventRecording), [link(events[1].id, CALLS[1])]),
        1,
    ),
    "all links of a search deleted": (
        lambda session, events: session.execute(
            delete(AuditEventRecording).where(AuditEventRecording.event_id == events[0].id)
        ),
        0,
    ),
}


@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
def test_an_edited_link_breaks_verify_naming_the_event_and_no_call(
    trail: Session,
    signed: Runtime,
    verify: Callable[[Runtime], Result],
    edit: tuple[Callable[[Session, list[AuditEvent]], object], int],
) -> None:
    change, broken_index = edit
    events = list(
        trail.scalars(
            select(AuditEvent)
            .where(AuditEvent.action.like("recording.%"), AuditEvent.seq > trail.info[TRAIL_START])
            .order_by(AuditEvent.seq)
        )
    )
    change(trail, events)
    trail.commit()
    assert audit.verify_chain(trail, keys=audit.session_keys(trail))[1] is None  # the chain itself is untouched
    in_small_batches = audit.verify_links(trail, batch_size=1)
    assert in_small_batches is not None and in_small_batches.event_id == events[edit[1]].id

    result = verify(signed)

    broken = events[broken_index]
    assert result.exit_code == 1, result.output
    assert f"BROKEN at event {broken.seq}: " in result.output
    assert broken.id in result.output and "intact" not in result.stdout
    assert not any(call in result.output for call in CALLS)  # the event, not the calls it is about
    verified = trail.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
    assert verified.action == "audit.verified"
    assert (verified.details["intact"], verified.details["broken_seq"]) == (False, broken.seq)


def test_a_link_naming_no_event_breaks_verify(
    trail: Session, signed: Runtime, verify: Callable[[Runtime], Result]
) -> None:
    ghost = new_id()
    trail.execute(insert(AuditEventRecording), [link(ghost, CALLS[1])])
    trail.commit()

    result = verify(signed)

    assert result.exit_code == 1, result.output
    assert f"BROKEN: a link to a recording names event {ghost}, which is not in the trail" in result.output
    assert CALLS[1] not in result.output
