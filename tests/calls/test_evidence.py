"""Evidence export: the original re-hashed before zipping, transcript, metadata, audit trail, manifest."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import UTC
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.calls import evidence
from recordings_service.calls.evidence import MANIFEST, EvidenceMismatch, export_evidence
from recordings_service.calls.review import add_annotation, verify_transcript
from recordings_service.errors import Conflict
from recordings_service.models import AuditEvent, Recording, User
from recordings_service.models.account import Role
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from tests.factories.accounts import login, make_user, post_form
from tests.factories.recordings import STEREO
from tests.factories.reviews import make_transcribed_call


@pytest.fixture
def call(session: Session, store: S3ObjectStore, envelope: Envelope) -> Recording:
    return make_transcribed_call(session, store, envelope)


@pytest.fixture
def officer(session: Session) -> User:
    return make_user(session, role=Role.COMPLIANCE)


def actor_of(user: User) -> Actor:
    return Actor(id=user.id, name=user.username, role=user.role)


def actions(session: Session, recording_id: str) -> list[str]:
    return list(
        session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == recording_id).order_by(AuditEvent.seq))
    )


def export(session: Session, store: S3ObjectStore, envelope: Envelope, user: User, recording: Recording, work: Path):
    package = io.BytesIO()
    made = export_evidence(
        session,
        store,
        envelope,
        actor=actor_of(user),
        recording_id=recording.id,
        destination=package,
        work_dir=work,
        zone=UTC,
    )
    return made, package


def test_the_package_holds_the_original_transcript_metadata_trail_and_a_manifest(
    session: Session, store: S3ObjectStore, envelope: Envelope, call: Recording, officer: User, tmp_path: Path
) -> None:
    verify_transcript(session, actor=actor_of(officer), recording_id=call.id, segment_index=3)
    add_annotation(session, actor=actor_of(officer), recording_id=call.id, at_s=15.0, text="Agreement here")
    made, package = export(session, store, envelope, officer, call, tmp_path)

    assert made.filename == f"evidence-{call.id}.zip"
    with zipfile.ZipFile(package) as archive:
        assert archive.testzip() is None
        names = set(archive.namelist())
        assert names == {
            "original.wav",
            "metadata.json",
            "transcript.json",
            "transcript.txt",
            "audit_trail.json",
            MANIFEST,
        }
        original = archive.read("original.wav")
        assert original == STEREO.read_bytes()
        manifest = json.loads(archive.read(MANIFEST))
        assert manifest["sha256_at_ingest"] == call.sha256 == hashlib.sha256(original).hexdigest()
        assert manifest["files"] == {
            name: hashlib.sha256(archive.read(name)).hexdigest() for name in names - {MANIFEST}
        }
        metadata = json.loads(archive.read("metadata.json"))
        assert metadata["id"] == call.id and metadata["sha256"] == call.sha256
        assert [note["text"] for note in metadata["annotations"]] == ["Agreement here"]
        transcript = json.loads(archive.read("transcript.json"))
        assert transcript["verification"]["transcript"] is None
        assert transcript["verification"]["segments"]["3"]["verified_by"] == officer.username
        assert "I agree to that." in archive.read("transcript.txt").decode()
        trail = json.loads(archive.read("audit_trail.json"))
        assert [event["action"] for event in trail][-3:] == [
            "transcript.verified",
            "annotation.added",
            "recording.evidence_exported",
        ]
        assert all(event["object_id"] == call.id for event in trail)
        # The trail carries its chain hashes, so it can be checked against the live chain.
        assert all(len(event["hash"]) == 64 and len(event["prev_hash"]) == 64 for event in trail)
    assert list(tmp_path.iterdir()) == []  # the decrypted copy is gone


def test_a_hash_that_differs_from_ingest_is_refused_and_audited(
    session: Session, store: S3ObjectStore, envelope: Envelope, call: Recording, officer: User, tmp_path: Path
) -> None:
    call.sha256 = hashlib.sha256(b"what was ingested was something else").hexdigest()
    session.flush()
    with pytest.raises(EvidenceMismatch) as mismatch:
        export(session, store, envelope, officer, call, tmp_path)
    # The refusal's audit event travels with the error; web/errors.py writes it after the rollback.
    refusal = mismatch.value.refusal
    assert refusal is not None
    assert (refusal.action, refusal.object_id, refusal.actor.id) == ("recording.evidence_refused", call.id, officer.id)
    assert refusal.details == {"reason": "sha256_mismatch"}
    assert "recording.evidence_exported" not in actions(session, call.id)
    assert list(tmp_path.iterdir()) == []


def test_tampered_ciphertext_is_refused_without_a_package(
    session: Session, store: S3ObjectStore, envelope: Envelope, call: Recording, officer: User, tmp_path: Path
) -> None:
    stored = store.get(call.storage_key).read()
    flipped = bytearray(stored)
    flipped[len(flipped) // 2] ^= 0xFF
    store.put(call.storage_key, io.BytesIO(bytes(flipped)))
    package = io.BytesIO()
    with pytest.raises(EvidenceMismatch) as mismatch:
        export_evidence(
            session,
            store,
            envelope,
            actor=actor_of(officer),
            recording_id=call.id,
            destination=package,
            work_dir=tmp_path,
            zone=UTC,
        )
    assert package.getvalue() == b""
    refusal = mismatch.value.refusal
    assert refusal is not None
    assert (refusal.action, refusal.details) == ("recording.evidence_refused", {"reason": "decryption_failed"})


def test_the_download_streams_a_zip_uncached_and_audited(
    client: FlaskClient, session: Session, call: Recording
) -> None:
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    login(client, supervisor)
    response = post_form(client, f"/calls/{call.id}/evidence", {}, token_from=f"/calls/{call.id}")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"] == f"attachment; filename=evidence-{call.id}.zip"
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        assert archive.read("original.wav") == STEREO.read_bytes()
    exported = session.scalars(
        select(AuditEvent).where(AuditEvent.object_id == call.id, AuditEvent.action == "recording.evidence_exported")
    ).one()
    assert exported.actor_id == supervisor.id and exported.details["sha256"] == call.sha256


def test_the_download_refuses_a_mismatch_and_keeps_the_record(
    client: FlaskClient, session: Session, call: Recording
) -> None:
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    call.sha256 = "0" * 64
    session.flush()
    response = post_form(client, f"/calls/{call.id}/evidence", {}, token_from=f"/calls/{call.id}")
    assert response.status_code == 409
    assert "no evidence package was made" in response.get_data(as_text=True)
    assert "recording.evidence_refused" in actions(session, call.id)


def test_restricted_recordings_export_for_compliance_only(
    client: FlaskClient, session: Session, store: S3ObjectStore, envelope: Envelope
) -> None:
    restricted = make_transcribed_call(session, store, envelope, restricted=True)
    login(client, make_user(session, role=Role.COMPLIANCE))
    token = f"/calls/{restricted.id}"
    assert post_form(client, f"/calls/{restricted.id}/evidence", {}, token_from=token).status_code == 200
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    login(client, supervisor)
    token_page = f"/calls/{make_transcribed_call(session, store, envelope).id}"
    assert post_form(client, f"/calls/{restricted.id}/evidence", {}, token_from=token_page).status_code == 404
    assert actions(session, restricted.id).count("recording.evidence_exported") == 1
    assert "recording.access_denied" in actions(session, restricted.id)


def test_the_export_is_audited_with_the_bytes_sent_in_the_trail_and_the_package_alike(
    client: FlaskClient, session: Session, call: Recording
) -> None:
    """Found by a supervisor's review of downloads: audio served names its bytes, the evidence ZIP did not."""
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    response = post_form(client, f"/calls/{call.id}/evidence", {}, token_from=f"/calls/{call.id}")
    sent = response.get_data()

    exported = session.scalars(
        select(AuditEvent).where(AuditEvent.object_id == call.id, AuditEvent.action == "recording.evidence_exported")
    ).one()
    assert exported.details["bytes"] == len(sent)
    with zipfile.ZipFile(io.BytesIO(sent)) as archive:
        assert archive.testzip() is None
        own = json.loads(archive.read("audit_trail.json"))[-1]
        assert (own["action"], own["details"]["bytes"]) == ("recording.evidence_exported", len(sent))
        assert own["hash"] == exported.hash  # the event the trail shows is the one recorded, not the trial's


def test_a_package_larger_than_its_recorded_size_is_not_sent(
    session: Session,
    store: S3ObjectStore,
    envelope: Envelope,
    call: Recording,
    officer: User,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Many events committed for the call between the measuring and the packing would outgrow the allowance."""
    monkeypatch.setattr(evidence, "_SIZE_ALLOWANCE", -10_000)
    with pytest.raises(Conflict, match="grew while its evidence was packed"):
        export(session, store, envelope, officer, call, tmp_path)
