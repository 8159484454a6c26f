"""Card data (PCI DSS 3.3.1): a call in which a card is read out is flagged, and its original replaced by a copy
muted over the card spans; neither the transcript, nor its twin, nor the search index, nor the log keeps the digits.

The call goes through the real ingest service and the real transcription job with the bundled Whisper base.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from jobs.transcription import transcribe_pending
from recordings_service.audit import Actor
from recordings_service.calls.evidence import MANIFEST, EvidenceMismatch, export_evidence
from recordings_service.config import Settings
from recordings_service.db import utcnow
from recordings_service.models import AuditEvent, Recording, Transcript, TranscriptionJob
from recordings_service.originals import original_bytes
from recordings_service.redaction.audio import spans_to_mute
from recordings_service.redaction.pci import CARD_PAD_S
from recordings_service.redaction.transcripts import CARD_KINDS
from recordings_service.runtime import Runtime
from recordings_service.storage.object_store import S3ObjectStore
from recordings_service.storage.reconcile import reconcile_storage
from recordings_service.storage.spool import file_sha256
from recordings_service.transcript_text import segments_of, twin_of
from recordings_service.transcription.engines import Engine, load_engine
from recordings_service.transcription.search_index import INDEX_TABLE
from tests.factories.card_call import CARD_CALL, add_transcript, card_twin, decode, frames, outside, rms_dbfs, secure
from tests.factories.recordings import MADE_SOURCE, TEST_ACTOR, ingest_file, make_recording
from tests.factories.wav import chunk, fmt, wav
from tests.log_scan import process_log

# The card number as read out and as Whisper writes it, a run of 12 or more digits however separated, and
# the security code.
CARD_NUMBERS = ("4539148803436467", "459148803436467", "4539")
DIGIT_RUN = re.compile(r"\d(?:[\s,.\-]*\d){11,}")
SECURITY_CODE = re.compile(r"\b7\s*3\s*1\b")
COMPLIANCE = Actor(id=None, name="compliance-test", role="compliance")


@pytest.fixture(scope="module")
def whisper(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return load_engine(Settings(data_dir=tmp_path_factory.mktemp("model-data"), transcribe_threads=2))


@pytest.fixture
def card_calls(engine: sqlalchemy.Engine, store: S3ObjectStore) -> Iterator[list[str]]:
    """Ids of the calls a test ingests; on SQLite the job's commits escape the test's rollback, so they go here."""
    made: list[str] = []
    yield made
    with engine.begin() as connection:
        keys = connection.scalars(select(Recording.storage_key).where(Recording.id.in_(made))).all()
        if engine.dialect.name == "sqlite":
            for recording_id in made:
                connection.execute(text(f"DELETE FROM {INDEX_TABLE} WHERE recording_id = :id"), {"id": recording_id})
        connection.execute(delete(Transcript).where(Transcript.recording_id.in_(made)))
        connection.execute(delete(TranscriptionJob).where(TranscriptionJob.recording_id.in_(made)))
        connection.execute(delete(Recording).where(Recording.id.in_(made)))
    for key in keys:
        store.delete(key)
    for recording_id in made:
        for info in store.list(f"derived/{recording_id}/"):
            store.delete(info.key)


def transcribed_card_call(
    runtime: Runtime, session: Session, whisper: Engine, monkeypatch: pytest.MonkeyPatch, made: list[str]
) -> Recording:
    """Ingest the card call and run the transcription job on it (commits, as the jobs process does)."""
    monkeypatch.setattr("jobs.transcription.engine_for", lambda _settings: whisper)
    result = ingest_file(
        session, runtime.store, runtime.envelope, runtime.settings, path=CARD_CALL, source=MADE_SOURCE, customer_ref=...
    )
    made.append(result.recording.id)
    session.commit()
    transcribe_pending(runtime, budget_s=120)
    session.expire_all()
    return session.get_one(Recording, result.recording.id)


def stored_original(runtime: Runtime, recording: Recording) -> bytes:
    return b"".join(original_bytes(runtime.store, runtime.envelope, recording, start=0, stop=recording.size_bytes + 1))


def events(session: Session, recording_id: str) -> dict[str, dict[str, Any]]:
    rows = session.scalars(select(AuditEvent).where(AuditEvent.object_id == recording_id).order_by(AuditEvent.seq))
    return {event.action: event.details for event in rows}


def card_data_in(texts: list[str]) -> list[str]:
    joined = "\n".join(texts)
    found = [number for number in CARD_NUMBERS if number in joined]
    return found + DIGIT_RUN.findall(joined) + SECURITY_CODE.findall(joined)


def texts_of(segments: list[dict[str, Any]] | None) -> list[str]:
    return [str(s["text"]) for s in segments or []] + [str(w["text"]) for s in segments or [] for w in s["words"]]


def test_a_card_read_out_is_flagged_muted_in_the_original_and_kept_nowhere(
    card_calls: list[str],  # first: its clean-up runs after the test's connection has rolled back
    runtime: Runtime,
    session: Session,
    whisper: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app_log = process_log()
    log_start = app_log.stat().st_size if app_log.exists() else 0
    ingest_sha256 = file_sha256(CARD_CALL)
    recording = transcribed_card_call(runtime, session, whisper, monkeypatch, card_calls)
    transcript = session.scalars(select(Transcript).where(Transcript.recording_id == recording.id)).one()

    assert recording.status == "transcribed" and recording.card_data
    assert recording.pci_redacted_at is not None and recording.pci_original_sha256 == ingest_sha256
    stored = stored_original(runtime, recording)
    assert recording.sha256 == hashlib.sha256(stored).hexdigest() != ingest_sha256
    assert recording.size_bytes == len(stored)
    assert recording.storage_key.startswith(f"originals/{utcnow():%Y/%m}/{recording.id}.pci-")
    replaced = [version.version_id for version in runtime.store.list_versions(recording.storage_key)]
    assert replaced == [recording.storage_version_id]

    spans = spans_to_mute(twin_of(session, transcript) or [], kinds=CARD_KINDS, pad_s=CARD_PAD_S)
    assert sum(end - start for start, end in spans) >= 4.0  # sixteen digits and a code take that long to say
    original, muted = (
        decode(CARD_CALL, ffmpeg=runtime.settings.ffmpeg_path()),
        decode(stored, ffmpeg=runtime.settings.ffmpeg_path()),
    )
    for span in spans:
        for channel in (0, 1):
            assert rms_dbfs(muted[frames(span), channel]) < -60
    kept = outside(len(original), spans)
    assert np.array_equal(muted[kept], original[kept])

    old_key = f"originals/{utcnow():%Y/%m}/{recording.id}"
    versions = runtime.store._client.list_object_versions(Bucket=runtime.store.bucket, Prefix=old_key)  # type: ignore[attr-defined]
    left = [v for v in [*versions.get("Versions", []), *versions.get("DeleteMarkers", [])] if v["Key"] == old_key]
    assert left == []

    trail = events(session, recording.id)
    assert trail["recording.card_data_flagged"]["card"] >= 1
    assert trail["recording.original_redacted_pci"]["old_sha256"] == ingest_sha256
    assert trail["recording.original_redacted_pci"]["new_sha256"] == recording.sha256

    indexed = list(
        session.scalars(text(f"SELECT text FROM {INDEX_TABLE} WHERE recording_id = :id"), {"id": recording.id})
    )
    assert indexed and "[CARD]" in " ".join(indexed)
    assert "[CARD]" in " ".join(texts_of(segments_of(session, transcript)))
    assert card_data_in(texts_of(segments_of(session, transcript))) == []
    assert card_data_in(texts_of(twin_of(session, transcript))) == []
    assert card_data_in(indexed) == []
    with app_log.open(encoding="utf-8", errors="replace") as log:
        log.seek(log_start)
        logged = log.read()
    assert "original replaced under PCI" in logged
    assert [number for number in CARD_NUMBERS if number in logged] == re.findall(r"\d{12,}", logged) == []


def test_without_replacement_the_call_is_only_flagged(
    card_calls: list[str],  # first: its clean-up runs after the test's connection has rolled back
    runtime: Runtime,
    session: Session,
    whisper: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    flag_only = replace(runtime, settings=replace(runtime.settings, pci_replace_original=False))
    recording = transcribed_card_call(flag_only, session, whisper, monkeypatch, card_calls)

    assert recording.card_data and recording.pci_redacted_at is None and recording.pci_original_sha256 is None
    assert stored_original(runtime, recording) == CARD_CALL.read_bytes()
    assert recording.sha256 == file_sha256(CARD_CALL)
    trail = events(session, recording.id)
    assert "recording.card_data_flagged" in trail and "recording.original_redacted_pci" not in trail


def replaced_call(runtime: Runtime, session: Session) -> tuple[Recording, str]:
    """A call with the measured card twin, its original replaced (the old key not yet deleted)."""
    recording = make_recording(session, runtime.store, runtime.envelope, audio=CARD_CALL, duration_s=23.69)
    add_transcript(session, recording, twin=card_twin())
    old_key = secure(runtime, session, recording)
    assert old_key is not None
    return recording, old_key


def test_a_second_pass_changes_nothing(runtime: Runtime, session: Session) -> None:
    recording, old_key = replaced_call(runtime, session)
    runtime.store.delete(old_key)
    before = (recording.storage_key, recording.sha256, recording.pci_redacted_at, dict(events(session, recording.id)))
    again = secure(runtime, session, recording)
    assert again is None
    assert (recording.storage_key, recording.sha256, recording.pci_redacted_at, events(session, recording.id)) == before
    runtime.store.delete(recording.storage_key)


def test_a_crash_before_the_old_original_is_deleted_is_repaired_by_reconcile(
    runtime: Runtime, session: Session
) -> None:
    recording, _old_key = replaced_call(runtime, session)
    report = reconcile_storage(
        session, runtime.store, actor=TEST_ACTOR, grace_s=3600, now=utcnow() + timedelta(hours=2)
    )
    assert report.orphans_deleted >= 1
    listed = {info.key for info in runtime.store.list(f"originals/{utcnow():%Y/%m}/{recording.id}")}
    assert listed == {recording.storage_key}
    assert recording.status == "stored"
    runtime.store.delete(recording.storage_key)


def test_the_evidence_package_states_the_pci_redaction_with_both_hashes(
    runtime: Runtime, session: Session, tmp_path: Path
) -> None:
    recording, old_key = replaced_call(runtime, session)
    runtime.store.delete(old_key)
    package = io.BytesIO()
    made = export_evidence(
        session,
        runtime.store,
        runtime.envelope,
        actor=COMPLIANCE,
        recording_id=recording.id,
        destination=package,
        work_dir=tmp_path,
        zone=UTC,
    )
    with zipfile.ZipFile(package) as archive:
        manifest = json.loads(archive.read(MANIFEST))
        metadata = json.loads(archive.read("metadata.json"))
        audio = archive.read("original.wav")
    assert hashlib.sha256(audio).hexdigest() == recording.sha256 == made.files["original.wav"]
    assert manifest["sha256_at_ingest"] == file_sha256(CARD_CALL) == recording.pci_original_sha256
    note = manifest["pci_redaction"]
    assert note == metadata["pci_redaction"] and metadata["card_data"] is True
    assert note["requirement"] == "PCI DSS 3.3.1" and "replaced" in note["statement"]
    assert (note["original_sha256"], note["redacted_sha256"]) == (recording.pci_original_sha256, recording.sha256)
    assert note["redacted_at"] == recording.pci_redacted_at.isoformat()  # type: ignore[union-attr]

    recording.sha256 = recording.pci_original_sha256 or ""  # the row now claims the unredacted original
    with pytest.raises(EvidenceMismatch):
        export_evidence(
            session,
            runtime.store,
            runtime.envelope,
            actor=COMPLIANCE,
            recording_id=recording.id,
            destination=io.BytesIO(),
            work_dir=tmp_path,
            zone=UTC,
        )
    runtime.store.delete(recording.storage_key)


def test_a_card_call_ffmpeg_cannot_write_again_is_flagged_and_keeps_its_transcript(
    runtime: Runtime, session: Session
) -> None:
    """Found by the odd-audio pass: a stereo card call whose channels were laid out back-left and back-right (taken in
    before ingest refused such layouts) made FFmpeg refuse to mute it with another refusal than an unsupported codec;
    the step re-raised it, so the transcription failed on every try and the call was never flagged."""
    raw, position, chunks = CARD_CALL.read_bytes(), 12, {}
    while position < len(raw):
        size = int.from_bytes(raw[position + 4 : position + 8], "little")
        chunks[raw[position : position + 4]] = raw[position + 8 : position + 8 + size]
        position += 8 + size + (size & 1)
    tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", chunks[b"fmt "])
    # The same codec as an extensible WAV's sub-format GUID, its channels back-left and back-right.
    subformat = struct.pack("<H", tag) + bytes.fromhex("000000001000800000aa00389b71")
    extension = struct.pack("<HHI", 22, bits, 0x30) + subformat
    body = fmt(0xFFFE, channels, rate=rate, bits=bits) + extension
    layout = wav(chunk(b"fmt ", body), chunk(b"data", chunks[b"data"]))
    recording = make_recording(session, runtime.store, runtime.envelope, audio=layout, duration_s=23.69)
    add_transcript(session, recording, twin=card_twin())

    assert secure(runtime, session, recording) is None
    assert recording.card_data and recording.pci_redacted_at is None
    assert events(session, recording.id)["recording.pci_redaction_failed"]["reason"] == "invalid"
    assert stored_original(runtime, recording) == layout
