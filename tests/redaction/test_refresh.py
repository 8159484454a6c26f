"""`callvault redaction refresh`: transcripts stored before a detector existed are redacted again with it; the twin
trainers and partners read and the search index follow, and a second run finds nothing left to change."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recordings_service.calls.search import SearchFilters, search_calls
from recordings_service.models import AuditEvent, Transcript
from recordings_service.runtime import Runtime
from recordings_service.transcript_text import seal_segments, twin_of
from recordings_service.transcription.search_index import index_transcript
from tests.factories.card_call import add_transcript
from tests.factories.privacy import OFFICER
from tests.factories.recordings import make_recording
from tests.factories.redaction import refresh
from tests.factories.transcription import segment

# The customer introduces herself; the agent says her name again later, without a cue (before the fix, a twin
# kept "thank you Liisa").
SAID = [
    segment("agent", 0.0, ["Hello,", "may", "I", "have", "your", "name?"]),
    segment("customer", 3.0, ["My", "name", "is", "Liisa", "Mäkinen."]),
    segment("agent", 6.0, ["one", "moment", "please."]),
    segment("customer", 8.0, ["okay."]),
    segment("agent", 9.0, ["thank", "you", "Liisa,", "your", "bill", "is", "ready."]),
]


def stale_call(session: Session, runtime: Runtime) -> str:
    """A call whose twin an older release wrote: the name redacted where introduced, not where said again."""
    recording = make_recording(session, runtime.store, runtime.envelope)
    transcript = add_transcript(session, recording, twin=None)
    stale = [*SAID[:1], {**SAID[1], "text": " My name is [PERSON]."}, *SAID[2:]]
    seal_segments(session, transcript, segments=SAID, twin=stale)
    index_transcript(session, transcript)
    session.commit()
    return recording.id


def found_by(session: Session, word: str, recording_id: str) -> bool:
    page = search_calls(session, actor=OFFICER, query=word, filters=SearchFilters())
    return recording_id in [item.recording.id for item in page.items]


def test_a_stale_twin_is_redacted_again_indexed_and_audited_once(
    session: Session, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording_id = stale_call(session, runtime)
    assert found_by(session, "Liisa", recording_id)

    dry = refresh(runtime, monkeypatch, "--dry-run")
    assert dry["would_change"] >= 1 and dry["checked"] >= dry["would_change"]
    session.expire_all()
    assert found_by(session, "Liisa", recording_id)  # a dry run changes nothing

    assert refresh(runtime, monkeypatch)["changed"] == dry["would_change"]
    session.expire_all()
    twin = twin_of(session, session.scalars(select(Transcript).where(Transcript.recording_id == recording_id)).one())
    assert twin is not None and twin[4]["text"] == " thank you [PERSON], your bill is ready."
    assert not found_by(session, "Liisa", recording_id)
    refreshed = select(func.count()).where(
        AuditEvent.action == "transcript.redaction_refreshed", AuditEvent.object_id == recording_id
    )
    assert session.scalar(refreshed) == 1

    assert refresh(runtime, monkeypatch)["changed"] == 0  # nothing left to change
    assert session.scalar(refreshed) == 1
