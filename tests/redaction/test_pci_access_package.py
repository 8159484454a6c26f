"""An access package built before a call's card data was muted (PCI DSS 3.3.1) is built again from the muted
original: the card number read out is kept nowhere, the customer's own package included.

Found by exploratory testing: a package built while the call waited for transcription held the original as
ingested; the transcription job then replaced the original by its card-muted copy, but the package, downloadable
for seven days, kept the card number and security code as spoken. The call goes through the real ingest and the
real transcription job with the bundled Whisper base."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from jobs import subject_access
from jobs.transcription import transcribe_pending
from recordings_service.config import Settings
from recordings_service.db import utcnow
from recordings_service.models import Customer, Recording, SubjectRequest, Transcript, TranscriptionJob
from recordings_service.privacy import package_queue, subjects
from recordings_service.runtime import Runtime
from recordings_service.storage.object_store import S3ObjectStore
from recordings_service.storage.spool import file_sha256
from recordings_service.transcription.engines import Engine, load_engine
from recordings_service.transcription.search_index import INDEX_TABLE
from tests.factories.audit import events
from tests.factories.card_call import CARD_CALL
from tests.factories.privacy import OFFICER
from tests.factories.recordings import MADE_SOURCE, ingest_file


@pytest.fixture
def whisper(tmp_path: Path) -> Engine:
    return load_engine(Settings(data_dir=tmp_path, transcribe_threads=2))


@pytest.fixture
def committed(engine: sqlalchemy.Engine, store: S3ObjectStore) -> Iterator[dict[str, str]]:
    """The call, request and customer the test commits (the jobs commit too, past the test's rollback): removed."""
    made: dict[str, str] = {}
    yield made
    with engine.begin() as connection:
        recording_id = made.get("recording", "")
        keys = connection.scalars(select(Recording.storage_key).where(Recording.id == recording_id)).all()
        if engine.dialect.name == "sqlite":
            connection.execute(text(f"DELETE FROM {INDEX_TABLE} WHERE recording_id = :id"), {"id": recording_id})
        connection.execute(delete(SubjectRequest).where(SubjectRequest.id == made.get("request", "")))
        connection.execute(delete(Transcript).where(Transcript.recording_id == recording_id))
        connection.execute(delete(TranscriptionJob).where(TranscriptionJob.recording_id == recording_id))
        connection.execute(delete(Recording).where(Recording.id == recording_id))
        connection.execute(delete(Customer).where(Customer.id == made.get("customer", "")))
    for key in [*keys, f"subject-access/{made.get('request')}/package.zip"]:
        for version in store.list_versions(key):
            store.delete_versions([(version.key, version.version_id)])


def _audio_digests(session: Session, runtime: Runtime, request: SubjectRequest) -> list[str]:
    """The SHA-256 of each call's audio in the package, as the customer downloads it."""
    _, reader = package_queue.open_package(
        session, runtime.store, runtime.envelope, actor=OFFICER, request_id=request.id
    )
    with reader:
        package = zipfile.ZipFile(io.BytesIO(reader.read()))
    names = [name for name in package.namelist() if name.startswith("recordings/") and "/audio" in name]
    return [hashlib.sha256(package.read(name)).hexdigest() for name in names]


def test_a_package_built_before_the_card_was_muted_is_built_again_from_the_muted_original(
    committed: dict[str, str],
    runtime: Runtime,
    session: Session,
    whisper: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("jobs.transcription.engine_for", lambda _settings: whisper)
    ingested = ingest_file(
        session, runtime.store, runtime.envelope, runtime.settings, path=CARD_CALL, source=MADE_SOURCE
    )
    recording = ingested.recording
    assert recording.customer_id is not None
    customer_ref = session.get_one(Customer, recording.customer_id).customer_ref
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=customer_ref, kind="access", received_at=utcnow()
    )
    committed.update(recording=recording.id, request=request.id, customer=recording.customer_id)
    package_queue.request_package(session, actor=OFFICER, request_id=request.id)
    session.commit()
    subject_access.build_packages(runtime)  # while the call waits for its transcription
    session.refresh(request)
    assert request.package_state == "ready"
    assert _audio_digests(session, runtime, request) == [file_sha256(CARD_CALL)]  # the card as read out

    transcribe_pending(runtime, budget_s=120)

    session.expire_all()
    muted = session.get_one(Recording, recording.id)
    assert muted.pci_redacted_at is not None and muted.sha256 != file_sha256(CARD_CALL)
    request = session.get_one(SubjectRequest, request.id)
    assert request.package_state == "queued" and request.package_wrapped_key is None
    assert [event.details for event in events(session, "subject_access.rebuilding", request.id)] == [
        {"reason": "card_data_muted"}
    ]
    subject_access.build_packages(runtime)
    session.refresh(request)
    assert request.package_state == "ready"
    assert _audio_digests(session, runtime, request) == [muted.sha256]
