"""Two supervisors marking the same transcript segment as checked against the audio at once: found by an exploratory
pass on PostgreSQL, where each found no mark, both inserted one, and the later failed on the mark's unique key (a
500). The transcript's row is now locked while a mark is made: the later waits, then updates the mark."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from recordings_service.audit import Actor
from recordings_service.calls.review import verify_transcript
from recordings_service.models import AuditEvent, SegmentVerification, Transcript
from recordings_service.models.account import Role
from recordings_service.runtime import SESSION_ENVELOPE
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from tests.factories.accounts import make_user
from tests.factories.evaluations import actor_of
from tests.factories.own_database import second_waits_for_first
from tests.factories.privacy import reviewed
from tests.factories.recordings import make_recording

UNCHECKED = 1  # `reviewed` marks segment 0


def test_the_same_segment_checked_by_two_people_at_once_keeps_one_mark_the_later(
    own_engine: Engine, store: ObjectStore, envelope: Envelope
) -> None:
    sessions = sessionmaker(own_engine, expire_on_commit=False, info={SESSION_ENVELOPE: envelope})
    with sessions() as setup:
        call = reviewed(setup, make_recording(setup, store, envelope))
        first, second = (actor_of(make_user(setup, role=Role.QA_SUPERVISOR)) for _ in range(2))
        setup.commit()

    def check(actor: Actor) -> Callable[[Session], object]:
        return lambda session: verify_transcript(session, actor=actor, recording_id=call.id, segment_index=UNCHECKED)

    outcome = second_waits_for_first(sessions, check(first), check(second))

    assert outcome is None
    with sessions() as session:
        transcript_id = session.scalars(select(Transcript.id).where(Transcript.recording_id == call.id)).one()
        marks = session.scalars(
            select(SegmentVerification).where(
                SegmentVerification.transcript_id == transcript_id, SegmentVerification.segment_index == UNCHECKED
            )
        ).all()
        assert [mark.verified_by for mark in marks] == [second.id]
        checked = select(AuditEvent.actor_id).where(AuditEvent.action == "transcript.verified")
        verified = session.scalars(checked.where(AuditEvent.object_id == call.id)).all()
        assert sorted(verified) == sorted([first.id, second.id])  # each person's check is in the trail
