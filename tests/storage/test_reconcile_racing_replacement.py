"""A card call's original replaced (card data muted: a new key, the old one deleted) while the reconcile job lists the
store: found by an exploratory pass. The reconcile compared the rows it read after its listing with that listing,
so the call, its new object not listed yet, was marked `missing_object` (unplayable, its audio left out of access
packages, for good) with its audio in the store. A row missing from the listing is now read again under a lock and
its object asked for before it is marked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.models import AuditEvent, Recording
from recordings_service.runtime import Runtime
from recordings_service.storage.object_store import ObjectInfo
from recordings_service.storage.reconcile import reconcile_storage
from tests.factories.card_call import CARD_CALL, add_transcript, card_twin, secure
from tests.factories.recordings import TEST_ACTOR, make_recording


def test_a_call_whose_original_is_replaced_during_the_listing_is_not_marked_missing(
    session: Session, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    call = make_recording(
        session, runtime.store, runtime.envelope, audio=CARD_CALL, duration_s=23.69, status="transcribed"
    )
    add_transcript(session, call, twin=card_twin())
    session.commit()
    original_key = call.storage_key
    listing = runtime.store.list
    replaced: list[str | None] = []

    def listed_then_replaced(prefix: str) -> Iterator[ObjectInfo]:
        found = list(listing(prefix))
        monkeypatch.setattr(runtime.store, "list", listing)  # the replacement lists the store itself
        with runtime.sessions() as transcription:  # the transcription job mutes the card data meanwhile
            replaced.append(secure(runtime, transcription, transcription.get_one(Recording, call.id)))
            transcription.commit()
        runtime.store.delete(replaced[0] or "")
        return iter(found)

    monkeypatch.setattr(runtime.store, "list", listed_then_replaced)
    report = reconcile_storage(session, runtime.store, actor=TEST_ACTOR, grace_s=3600)

    session.expire_all()
    moved = session.get_one(Recording, call.id)
    assert replaced == [original_key] and moved.storage_key != original_key  # the original did move
    assert moved.status == "transcribed" and report.rows_missing_object == 0
    missing = select(AuditEvent).where(AuditEvent.action == "recording.object_missing", AuditEvent.object_id == call.id)
    assert session.scalars(missing).all() == []
