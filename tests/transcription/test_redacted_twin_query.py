"""Whether a transcript has its redacted twin reads the same in a query as on a loaded row.

Found by review: a transcript sealed without a twin (redaction has not made one yet) kept JSON `null` in the
legacy clear-text column, not SQL NULL, so `Transcript.has_redacted_twin` in a query was true for it: training
samples and research selections counted it as having the redacted text they need. Rows written so before the fix
read right too."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from recordings_service.models import Recording, Transcript
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from recordings_service.training.eligibility import flag_columns
from recordings_service.transcript_text import seal_segments
from tests.factories.reviews import make_transcribed_call, script_segments


def _twin_in_query(session: Session, recording_id: str) -> bool:
    found = session.scalar(
        select(Transcript.id).where(Transcript.recording_id == recording_id, Transcript.has_redacted_twin)
    )
    return found is not None


def test_a_transcript_without_a_twin_has_none_in_a_query(
    session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    call = make_transcribed_call(session, store, envelope)
    transcript = session.scalars(select(Transcript).where(Transcript.recording_id == call.id)).one()

    assert transcript.has_redacted_twin is False
    assert _twin_in_query(session, call.id) is False
    transcribed = session.scalar(select(flag_columns()[-1]).select_from(Recording).where(Recording.id == call.id))
    assert transcribed is False

    seal_segments(session, transcript, segments=script_segments(), twin=script_segments())
    session.flush()
    assert transcript.has_redacted_twin is True and _twin_in_query(session, call.id) is True


def test_a_row_written_before_the_fix_with_json_null_reads_as_no_twin(
    session: Session, store: ObjectStore, envelope: Envelope
) -> None:
    call = make_transcribed_call(session, store, envelope)
    session.execute(text("UPDATE transcripts SET redacted_segments = 'null' WHERE recording_id = :id"), {"id": call.id})

    assert _twin_in_query(session, call.id) is False
