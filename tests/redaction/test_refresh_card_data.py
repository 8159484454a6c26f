"""`callvault redaction refresh` finding card data an older release missed: the card is secured as a transcription's
is (PCI DSS 3.3.1): taken out of the stored text, the call flagged, its original replaced by a copy muted over the
card and the old one deleted, where before the refresh only rewrote the twin and the original kept the card."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import AuditEvent, Recording, Transcript
from recordings_service.runtime import Runtime
from recordings_service.transcript_text import seal_segments, segments_of, twin_of
from recordings_service.transcription.search_index import index_transcript
from tests.factories.card_call import CARD_CALL, add_transcript
from tests.factories.recordings import make_recording
from tests.factories.redaction import refresh
from tests.factories.transcription import segment

SAID = [
    segment("agent", 1.0, ["What", "is", "your", "customer", "number?"]),
    segment("customer", 10.0, ["My", "card", "number", "is", "4111", "1111", "1111", "1111."]),
]
# What a release before the fix wrote: the last groups taken for a customer number, the rest kept.
OLD_TWIN = [SAID[0], {**SAID[1], "text": " My card number is 4111 1111 [CUSTOMER_NUMBER]."}]


def test_card_data_a_refresh_finds_is_secured_as_at_transcription(
    session: Session, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording = make_recording(session, runtime.store, runtime.envelope, audio=CARD_CALL, duration_s=23.69)
    transcript = add_transcript(session, recording, twin=None)
    seal_segments(session, transcript, segments=SAID, twin=OLD_TWIN)
    index_transcript(session, transcript)
    session.commit()
    old_key = recording.storage_key

    printed = refresh(runtime, monkeypatch)
    assert printed["changed"] >= 1 and printed["originals_muted"] >= 1

    session.expire_all()
    recording = session.get_one(Recording, recording.id)
    transcript = session.scalars(select(Transcript).where(Transcript.recording_id == recording.id)).one()
    assert recording.card_data and recording.pci_redacted_at is not None
    assert recording.storage_key != old_key
    assert "4111" not in " ".join(str(s["text"]) for s in segments_of(session, transcript))
    assert (twin_of(session, transcript) or [])[1]["text"] == " My card number is [CARD]."
    # The original that held the card is gone (the muted copy's key begins with its key).
    assert [info.key for info in runtime.store.list(old_key)] == [recording.storage_key]
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == recording.id)).all()
    assert {"recording.card_data_flagged", "recording.original_redacted_pci"} <= set(actions)
    runtime.store.delete(recording.storage_key)
