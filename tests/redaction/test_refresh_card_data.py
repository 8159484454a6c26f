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
from tests.factories.card_call import CARD_CALL, add_transcript, secure
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


def test_card_data_a_refresh_finds_in_a_call_muted_before_is_muted_too(
    session: Session, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a review: a call whose original was muted once (an expiry date the earlier release found) was left as
    it was, so the card number that release had missed stayed audible in the original."""
    recording = make_recording(session, runtime.store, runtime.envelope, audio=CARD_CALL, duration_s=23.69)
    ingested_sha256 = recording.sha256
    transcript = add_transcript(session, recording, twin=None)
    expiry = {"kind": "card_expiry", "start": 1.0, "end": 2.0, "timed": True}
    muted_once = [{**OLD_TWIN[0], "redactions": [expiry]}, OLD_TWIN[1]]
    seal_segments(session, transcript, segments=SAID, twin=muted_once)
    index_transcript(session, transcript)
    first_key = secure(runtime, session, recording)
    assert first_key is not None and recording.pci_redacted_at is not None
    runtime.store.delete(first_key)
    session.commit()
    muted_key = recording.storage_key

    assert refresh(runtime, monkeypatch)["originals_muted"] >= 1

    session.expire_all()
    recording = session.get_one(Recording, recording.id)
    assert recording.storage_key != muted_key
    assert not list(runtime.store.list(muted_key))  # the copy muted once, card number and all, is gone
    assert recording.pci_original_sha256 == ingested_sha256  # the original as ingested, not the first muted copy
    runtime.store.delete(recording.storage_key)
