"""Evidence of a call as one ZIP: the original audio (decrypted and re-hashed), its transcript, metadata,
evaluations (with their earlier versions), audit trail and a manifest of SHA-256 hashes, for a dispute about
what was agreed. Its export is audited with the package's size in bytes, as every download is.

The original is decrypted and hashed before anything is zipped; if the hash differs from the one recorded
for it (at ingest, or for the card-muted copy that replaced it under PCI DSS 3.3.1, which the package then
states with both hashes), no package is made and the refusal is audited (the caller commits despite the error).
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import zipfile
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audio.formats import format_of
from recordings_service.audit import Actor, event_record, record_event
from recordings_service.audit_search import EventFilter, iter_events
from recordings_service.calls.review import Check, list_comments, transcript_checks
from recordings_service.db import utcnow
from recordings_service.errors import Conflict, Refusal
from recordings_service.evaluations.history import evaluations_document
from recordings_service.models import Recording, Transcript
from recordings_service.originals import decrypt_original_to
from recordings_service.recordings import RecordingOut, get_playable_recording, require_still_visible
from recordings_service.storage.encryption import CHUNK, Envelope
from recordings_service.storage.object_store import ObjectStore
from recordings_service.storage.spool import scratch_dir
from recordings_service.transcription.transcripts import as_text, open_view, transcript_document
from recordings_service.zip_dates import dated_entry

MANIFEST = "manifest.json"
# Far more than the trial and the real package differ by: the event's bytes (up to 15 more digits), its time's
# microseconds, how well its random id and hash compress, and an event or two of the call that another request
# commits in the moment between them.
_SIZE_ALLOWANCE = 4096


class EvidenceMismatch(Conflict):
    """The stored original is not what was ingested (tampered, corrupted, or the wrong key)."""

    code = "evidence_mismatch"


@dataclass(frozen=True)
class EvidencePackage:
    filename: str
    files: dict[str, str]  # name in the ZIP -> SHA-256


def export_evidence(
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    *,
    actor: Actor,
    recording_id: str,
    destination: BinaryIO,
    work_dir: Path,
    zone: tzinfo,
) -> EvidencePackage:
    """Write the evidence ZIP of a recording into `destination`; audited as `recording.evidence_exported`. Its files
    are dated when it was made, as the clocks in `zone` (the organisation's) showed it (`zip_dates`)."""
    recording = get_playable_recording(session, actor=actor, recording_id=recording_id)
    with scratch_dir("evidence", parent=work_dir) as scratch:
        original = scratch / "original"
        digest = decrypt_original_to(store, envelope, recording=recording, path=original)
        # Share-locked from here to the commit: a deletion that committed meanwhile (its data key destroyed, the
        # decryption failed) is a call not found, not a mismatch; one in progress is waited for, then the same; one
        # to come waits for this export, whose event then precedes it in the trail. Unlocked, an export racing an
        # erasure sent the audio and recorded the export after the erasure. A restriction is met the same way.
        require_still_visible(session, recording, actor=actor)
        if digest != recording.sha256:
            reason = "sha256_mismatch" if digest else "decryption_failed"
            raise EvidenceMismatch(
                f"the stored original of recording {recording.id} does not match the SHA-256 recorded for it "
                "(at ingest, or when it was redacted under PCI DSS); no evidence package was made",
                refusal=Refusal(actor, "recording.evidence_refused", "recording", recording.id, {"reason": reason}),
            )
        transcript = session.scalar(select(Transcript).where(Transcript.recording_id == recording.id))
        documents = _documents(session, recording=recording, transcript=transcript)
        package = _Package(
            session, actor=actor, recording=recording, original_sha256=digest, documents=documents, zone=zone
        )
        # The export is recorded before the trail is read, so the package's own trail shows it, with the bytes it
        # sends; the trail is part of those bytes. A trial package (its event rolled back, its original left
        # empty: stored as it is, the original adds exactly its size) is measured, the event records that size
        # with room for the few bytes the real event's values differ by, and the archive comment pads up to it.
        trial = session.begin_nested()
        try:
            measured = io.BytesIO()
            package.record_export(transcript, size=0)
            package.write(measured, original=None)
        finally:
            trial.rollback()
        size = len(measured.getvalue()) + original.stat().st_size + _SIZE_ALLOWANCE
        package.record_export(transcript, size=size)
        start = destination.tell()
        files = package.write(destination, original=original)
        padding = size - (destination.tell() - start)
        if padding < 0:  # the trail would understate what left: the caller rolls the event back with the error
            raise Conflict(
                f"the audit trail of recording {recording.id} grew while its evidence was packed; try again",
                why="evidence_trail_grew",
            )
        with zipfile.ZipFile(destination, "a") as padded:
            padded.comment = b" " * padding
    return EvidencePackage(filename=f"evidence-{recording.id}.zip", files=files)


@dataclass(frozen=True)
class _Package:
    """What the evidence ZIP of one recording holds, written as the trail stands when it is written."""

    session: Session
    actor: Actor
    recording: Recording
    original_sha256: str
    documents: dict[str, bytes]  # every file but the original, the audit trail and the manifest
    zone: tzinfo

    def record_export(self, transcript: Transcript | None, *, size: int) -> None:
        record_event(
            self.session,
            actor=self.actor,
            action="recording.evidence_exported",
            object_type="recording",
            object_id=self.recording.id,
            details={
                "sha256": self.original_sha256,
                "transcript_id": transcript.id if transcript else None,
                "bytes": size,
            },
        )

    def write(self, destination: BinaryIO, *, original: Path | None) -> dict[str, str]:
        """Write the ZIP (with `original=None`, its original as an empty file); the files' SHA-256 by name."""
        recording = self.recording
        trail = [
            event_record(event) for event in iter_events(self.session, filters=EventFilter(object_id=recording.id))
        ]
        documents = {**self.documents, "audit_trail.json": _json(trail)}
        files = {f"original.{format_of(recording.container).extension}": self.original_sha256}
        generated = utcnow()

        def entry(name: str, compress_type: int) -> zipfile.ZipInfo:
            return dated_entry(name, generated, self.zone, compress_type=compress_type)

        with zipfile.ZipFile(destination, "w") as package:
            stored = entry(next(iter(files)), zipfile.ZIP_STORED)
            if original is None:
                package.writestr(stored, b"")
            else:
                stored.file_size = original.stat().st_size  # as `ZipFile.write` sets it: ZIP64 where it is needed
                with original.open("rb") as source, package.open(stored, "w") as out:
                    shutil.copyfileobj(source, out, CHUNK)
            for name, content in documents.items():
                package.writestr(entry(name, zipfile.ZIP_DEFLATED), content)
                files[name] = hashlib.sha256(content).hexdigest()
            manifest = {
                "recording_id": recording.id,
                "sha256_at_ingest": recording.sha256_at_ingest,
                **_pci_note(recording),
                "generated_at": generated.isoformat(),
                "generated_by": self.actor.name,
                "files": files,
            }
            package.writestr(entry(MANIFEST, zipfile.ZIP_DEFLATED), _json(manifest))
        return files


def _documents(session: Session, *, recording: Recording, transcript: Transcript | None) -> dict[str, bytes]:
    comments = [
        {"at_s": c.at_s, "text": c.text, "author": c.author, "created_at": c.created_at.isoformat()}
        for c in list_comments(session, recording_id=recording.id)
    ]
    documents = {
        "metadata.json": _json(
            {
                **RecordingOut.model_validate(recording).model_dump(mode="json"),
                "card_data": recording.card_data,
                **_pci_note(recording),
                "annotations": comments,
            }
        )
    }
    if transcript is not None:
        whole, segments = transcript_checks(session, transcript)
        verification = {
            "transcript": _check_json(whole),
            "segments": {str(index): _check_json(check) for index, check in sorted(segments.items())},
        }
        full = open_view(session, transcript, redacted=False)  # evidence is the transcript as kept, for verification
        documents["transcript.json"] = _json({**transcript_document(full), "verification": verification})
        documents["transcript.txt"] = as_text(full).encode()
    evaluations = evaluations_document(session, recording_id=recording.id)
    if evaluations:
        documents["evaluations.json"] = _json(evaluations)
    return documents


def _pci_note(recording: Recording) -> dict[str, Any]:
    """What the package says of an original replaced by its card-muted copy (nothing for any other)."""
    if recording.pci_redacted_at is None:
        return {}
    return {
        "pci_redaction": {
            "statement": (
                "The original as ingested was replaced by a copy muted where card data was said, because "
                "sensitive authentication data may not be kept after authorisation (PCI DSS 3.3.1). The "
                "audio in this package is that copy; outside the muted spans it holds the original's audio."
            ),
            "requirement": "PCI DSS 3.3.1",
            "redacted_at": recording.pci_redacted_at.isoformat(),
            "original_sha256": recording.pci_original_sha256,
            "redacted_sha256": recording.sha256,
        }
    }


def _check_json(check: Check | None) -> dict[str, str] | None:
    return None if check is None else {"verified_by": check.by, "verified_at": check.at.isoformat()}


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=2, ensure_ascii=False).encode()
