"""Card data on a call (PCI DSS 3.3.1): flag the recording, and replace its original by a copy muted over the
spans where a card number, security code or expiry date was said.

Sensitive authentication data may not be kept after authorisation, even encrypted, so the original as
ingested goes: the muted copy is uploaded to a new key (the row then names it), and the caller deletes every
version of the old key after its commit. A crash in between leaves the old object without a row, which
reconcile deletes after its grace period. The SHA-256 of both is kept, so the evidence package can say what
was replaced and when.
"""

from __future__ import annotations

import logging
from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audio.edit import mute_spans
from recordings_service.audit import Actor, record_event
from recordings_service.config import Settings
from recordings_service.db import new_id, utcnow
from recordings_service.errors import Invalid
from recordings_service.models import Recording, Transcript
from recordings_service.originals import decrypt_original_to
from recordings_service.recordings import UNPLAYABLE
from recordings_service.redaction.audio import spans_to_mute
from recordings_service.redaction.transcripts import CARD_KINDS, redactions_of
from recordings_service.storage.derived import delete_derived
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from recordings_service.storage.originals import store_original
from recordings_service.storage.spool import file_sha256, scratch_dir
from recordings_service.transcript_text import rekey_transcript, twin_of

log = logging.getLogger(__name__)

# Whisper often ends a word's timing before the sound ends ("seven three one" ran 0.34 s past its word
# end in the fixture): card data, which may not be kept at all, is muted with a wider margin than the rest.
CARD_PAD_S = 0.5


def secure_card_data(
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    *,
    settings: Settings,
    recording_id: str,
    actor: Actor,
    again: bool = False,
) -> str | None:
    """Flag a transcribed call whose redacted transcript holds card data and, if configured, replace its original.

    Returns the storage key of the replaced original, whose every version the caller deletes after its
    commit; None when nothing was replaced. A call already replaced is left as it is, unless `again`: its
    transcript now holds card data the last muting did not cover (a release that finds more, `redaction refresh`).
    """
    recording = session.get(Recording, recording_id)
    if recording is None or recording.status in UNPLAYABLE:
        return None
    transcript = session.scalar(select(Transcript).where(Transcript.recording_id == recording_id))
    twin = twin_of(session, transcript) if transcript is not None else None
    found = Counter(r.kind for r in redactions_of(twin or []) if r.kind in CARD_KINDS)
    if not found:
        return None
    if not recording.card_data:
        recording.card_data = True
        record_event(
            session,
            actor=actor,
            action="recording.card_data_flagged",
            object_type="recording",
            object_id=recording.id,
            details=dict(sorted(found.items())),  # counts by kind, never values
        )
    session.flush()
    if (recording.pci_redacted_at is not None and not again) or not settings.pci_replace_original:
        return None
    return _replace_original(
        session,
        store,
        envelope,
        settings=settings,
        recording=recording,
        spans=spans_to_mute(twin or [], kinds=CARD_KINDS, pad_s=CARD_PAD_S),
        actor=actor,
    )


def pci_key(recording: Recording) -> str:
    """A fresh key for the card-muted original (ids only: keys carry no personal data)."""
    now = utcnow()
    return f"originals/{now.year:04d}/{now.month:02d}/{recording.id}.pci-{new_id()[-10:].lower()}"


def _replace_original(
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    *,
    settings: Settings,
    recording: Recording,
    spans: list[tuple[float, float]],
    actor: Actor,
) -> str | None:
    old_key, old_sha256 = recording.storage_key, recording.sha256
    new_key = pci_key(recording)
    with scratch_dir("pci") as scratch:
        original, muted = scratch / "original", scratch / "muted"
        if decrypt_original_to(store, envelope, recording=recording, path=original) != old_sha256:
            # Replacing an original that is not what was ingested would hide the damage behind a new hash.
            _not_replaced(session, recording=recording, actor=actor, reason="sha256_mismatch")
            return None
        try:
            mute_spans(original, muted, spans=spans, ffmpeg=settings.ffmpeg_path())
        except Invalid as exc:
            # FFmpeg cannot write this file again (its codec, its container, or a channel layout taken in before
            # ingest refused it): a retry would fail alike, and failing, took the transcript down with it each time.
            _not_replaced(session, recording=recording, actor=actor, reason=exc.code)
            return None
        new_sha256, size = file_sha256(muted), muted.stat().st_size
        sealed = store_original(
            store, envelope, settings=settings, audio_path=muted, key=new_key, recording_id=recording.id
        )
    try:
        recording.storage_key = new_key
        recording.storage_version_id = sealed.version_id
        rekey_transcript(session, recording=recording, wrapped_data_key=sealed.wrapped_data_key)
        recording.master_key_id = sealed.master_key_id
        recording.sha256 = new_sha256
        recording.size_bytes = size
        # The original as ingested, also when a muted copy is muted again.
        recording.pci_original_sha256 = recording.pci_original_sha256 or old_sha256
        recording.pci_redacted_at = utcnow()
        record_event(
            session,
            actor=actor,
            action="recording.original_redacted_pci",
            object_type="recording",
            object_id=recording.id,
            details={
                "old_sha256": old_sha256,
                "new_sha256": new_sha256,
                "spans": len(spans),
                "muted_s": round(sum(end - start for start, end in spans), 2),
            },
        )
        session.flush()
    except BaseException:
        store.delete(new_key)
        raise
    # Copies made from the unredacted original (redacted audio, peaks) are rebuilt from the new one on demand;
    # dropping a cache early is harmless, whatever becomes of this transaction.
    cached = [item.key for item in store.list(f"derived/{recording.id}/")]
    delete_derived(session, store, recording_id=recording.id, keys=cached)
    log.info("original replaced under PCI DSS 3.3.1", extra={"recording": recording.id, "spans": len(spans)})
    return old_key


def _not_replaced(session: Session, *, recording: Recording, actor: Actor, reason: str) -> None:
    """Leave the original, flagged, for a person to look at; the transcript is kept all the same."""
    log.warning("original with card data not replaced", extra={"recording": recording.id, "reason": reason})
    record_event(
        session,
        actor=actor,
        action="recording.pci_redaction_failed",
        object_type="recording",
        object_id=recording.id,
        details={"reason": reason, "codec": recording.codec},
    )
    session.flush()
