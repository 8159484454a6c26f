"""Access packages built by the jobs process against real SeaweedFS, on both databases: what they hold, their
hashes, leasing, failures, and expiry deleting every version."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from jobs import subject_access
from recordings_service.config import Settings
from recordings_service.db import utcnow
from recordings_service.errors import Conflict
from recordings_service.models import AuditEvent, Recording, SubjectRequest
from recordings_service.models.recording import RecordingStatus
from recordings_service.privacy import package_queue, subjects
from recordings_service.privacy.access_package import package_key
from recordings_service.privacy.fulfilment import Answer, after_commit, fulfil_request
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import S3ObjectStore
from recordings_service.transcription.pipeline import TranscriptDraft, save_transcript
from tests.factories.privacy import OFFICER, ORG_ZONE, aged_call, customer

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def jobs_runtime(
    settings: Settings, engine: Engine, sessions: sessionmaker[Session], bucket: S3ObjectStore, envelope: Envelope
) -> Runtime:
    return Runtime(settings=settings, engine=engine, sessions=sessions, store=bucket, envelope=envelope)


def transcribed(session: Session, recording: Recording) -> Recording:
    """Give the call a transcript with everything the engine records for each segment."""
    said = [("agent", "welcome to northern energy"), ("customer", "my meter reading is wrong")]
    segments = [
        {
            "speaker": speaker,
            "start": 2.0 * index,
            "end": 2.0 * index + 2,
            "text": text,
            "words": [],
            "avg_logprob": -0.2,
            "no_speech_prob": 0.01,
            "compression_ratio": 1.2,
            "suspect": False,
            "suspect_reasons": [],
        }
        for index, (speaker, text) in enumerate(said)
    ]
    draft = TranscriptDraft(
        engine="fake", model="fake", language="en", detected_language=None, segments=segments, processing_s=0.1
    )
    save_transcript(session, recording_id=recording.id, draft=draft)
    return recording


def queued_access(session: Session, ref: str) -> SubjectRequest:
    request = subjects.create_request(session, actor=OFFICER, customer_ref=ref, kind="access", received_at=NOW)
    package_queue.request_package(session, actor=OFFICER, request_id=request.id)
    session.commit()
    return request


def ready_package(session: Session, bucket: S3ObjectStore, envelope: Envelope, jobs_runtime: Runtime) -> SubjectRequest:
    """An access request, its package built, of a customer with one call."""
    person = customer(session)
    aged_call(session, bucket, envelope, started_at=NOW, purposes=[], customer_id=person.id)
    request = queued_access(session, person.customer_ref)
    subject_access.build_packages(jobs_runtime)
    session.refresh(request)
    assert request.package_state == "ready"
    return request


def downloaded(session: Session, bucket: S3ObjectStore, envelope: Envelope, request_id: str) -> zipfile.ZipFile:
    _, reader = package_queue.open_package(session, bucket, envelope, actor=OFFICER, request_id=request_id)
    with reader:
        return zipfile.ZipFile(io.BytesIO(reader.read()))


def audited(session: Session, action: str) -> Counter[str | None]:
    return Counter(session.scalars(select(AuditEvent.object_id).where(AuditEvent.action == action)))


def test_the_package_holds_every_call_of_the_customer_and_nothing_else(
    session: Session, bucket: S3ObjectStore, envelope: Envelope, jobs_runtime: Runtime
) -> None:
    person, stranger = customer(session), customer(session)
    calls = [
        transcribed(session, aged_call(session, bucket, envelope, started_at=NOW, purposes=["training"])),
        aged_call(session, bucket, envelope, started_at=NOW, purposes=["verification"], agreement_made=True),
        aged_call(session, bucket, envelope, started_at=NOW, purposes=[], restricted=True),  # theirs all the same
    ]
    for call in calls:
        call.customer_id = person.id
    other = aged_call(session, bucket, envelope, started_at=NOW, purposes=[], customer_id=stranger.id)
    session.flush()
    request = queued_access(session, person.customer_ref)

    subject_access.build_packages(jobs_runtime)

    session.refresh(request)
    assert request.package_state == "ready" and request.completed_at is not None
    assert request.package_expires_at == request.package_ready_at + timedelta(days=7)  # type: ignore[operator]
    package = downloaded(session, bucket, envelope, request.id)
    names = set(package.namelist())
    assert {name.split("/")[1] for name in names if name.startswith("recordings/")} == {call.id for call in calls}
    assert not any(other.id in name for name in names)
    manifest = json.loads(package.read("manifest.json"))
    assert manifest["files"] == {
        name: hashlib.sha256(package.read(name)).hexdigest() for name in names - {"manifest.json"}
    }
    assert sorted(manifest["recordings"]) == sorted(call.id for call in calls)
    assert manifest["audio_sha256_mismatches"] == []
    for call in calls:
        audio = package.read(f"recordings/{call.id}/audio.wav")
        assert hashlib.sha256(audio).hexdigest() == call.sha256
        metadata = json.loads(package.read(f"recordings/{call.id}/metadata.json"))
        assert metadata["customer_ref"] == person.customer_ref and metadata["purposes"] == call.purposes
        assert metadata["retention"]["retain_until"] == call.retain_until.isoformat()  # type: ignore[union-attr]
    assert metadata["retention"]["periods"][0]["rule"] == "no_agreement"
    transcript = json.loads(package.read(f"recordings/{calls[0].id}/transcript.json"))
    assert transcript["redacted"] is False and transcript["segments"][1]["text"] == "my meter reading is wrong"
    assert json.loads(package.read("recipients.json"))["recipients"] == []
    assert json.loads(package.read("history.json")) == {"requests": [], "legal_holds": []}
    readme = package.read("README.txt").decode()
    assert "research" in readme
    # Found by a privacy pass: it said neither which time zone its times are in nor the reader's other rights and where
    # to complain (Art. 15(1)(e) and (f)).
    for told in ("Times are in UTC", "Article 77", "tietosuoja.fi", "Ajat ovat UTC-aikaa", "valvontaviranomaiselle"):
        assert told in readme, told
    assert hashlib.sha256(b"".join(_plaintext(session, bucket, envelope, request.id))).hexdigest() == (
        request.package_sha256
    )

    assert audited(session, "recording.subject_access_exported") == Counter({call.id: 1 for call in calls})
    assert audited(session, "subject_access.package_built") == Counter({request.id: 1})
    assert audited(session, "subject_access.downloaded")[request.id] >= 1
    with pytest.raises(Conflict):
        package_queue.request_package(session, actor=OFFICER, request_id=request.id)


def test_someone_we_hold_no_recordings_of_is_answered_with_a_package_that_says_so(
    session: Session, bucket: S3ObjectStore, envelope: Envelope, jobs_runtime: Runtime
) -> None:
    """Art. 15 asks whether we process the person's data at all: a request from someone never recorded (or whose
    calls were all deleted) is registered and answered in time. It was refused with 404 before."""
    request = queued_access(session, "never-called-" + NOW.strftime("%H%M%S%f"))

    subject_access.build_packages(jobs_runtime)

    session.refresh(request)
    assert request.package_state == "ready" and request.completed_at is not None
    package = downloaded(session, bucket, envelope, request.id)
    assert not any(name.startswith("recordings/") for name in package.namelist())
    assert json.loads(package.read("manifest.json"))["recordings"] == []
    assert json.loads(package.read("recipients.json"))["recipients"] == []
    assert b"we hold no recordings of you" in package.read("README.txt")


def test_an_expired_package_loses_every_version_and_cannot_be_downloaded(
    session: Session, bucket: S3ObjectStore, envelope: Envelope, jobs_runtime: Runtime
) -> None:
    request = ready_package(session, bucket, envelope, jobs_runtime)
    # A second upload of the same key (a retried build) leaves an older version behind; expiry takes it too.
    bucket.put(package_key(request.id), io.BytesIO(b"an older version"))
    assert len(list(bucket.list_versions(f"subject-access/{request.id}/"))) == 2

    subject_access.expire_old_packages(jobs_runtime)  # not due yet
    session.refresh(request)
    assert request.package_state == "ready"
    session.execute(
        update(SubjectRequest).where(SubjectRequest.id == request.id).values(package_expires_at=NOW - timedelta(1))
    )
    session.commit()
    subject_access.expire_old_packages(jobs_runtime)

    session.refresh(request)
    assert (request.package_state, request.package_key) == ("expired", None)
    assert list(bucket.list_versions(f"subject-access/{request.id}/")) == []
    with pytest.raises(Conflict):
        package_queue.open_package(session, bucket, envelope, actor=OFFICER, request_id=request.id)
    assert audited(session, "subject_access.expired") == Counter({request.id: 1})


def test_a_build_that_keeps_failing_ends_failed_and_can_be_queued_again(
    session: Session, bucket: S3ObjectStore, envelope: Envelope, jobs_runtime: Runtime
) -> None:
    person = customer(session)
    broken = aged_call(session, bucket, envelope, started_at=NOW, purposes=[], customer_id=person.id)
    session.execute(update(Recording).where(Recording.id == broken.id).values(wrapped_data_key=b"not a key"))
    request = queued_access(session, person.customer_ref)

    for attempt in range(1, package_queue.MAX_ATTEMPTS + 1):
        subject_access.build_packages(jobs_runtime)
        session.refresh(request)
        assert request.package_attempts == attempt  # one attempt a run: the next waits (`RETRY_AFTER`)
        if request.package_state == "queued":
            request.lease_expires_at = utcnow() - timedelta(seconds=1)  # as if the wait had passed
            session.commit()

    assert (request.package_state, request.package_attempts) == ("failed", package_queue.MAX_ATTEMPTS)
    assert request.package_error and request.completed_at is None
    subject_access.expire_old_packages(jobs_runtime)  # removes anything a failed build may have uploaded
    assert list(bucket.list_versions(f"subject-access/{request.id}/")) == []
    package_queue.request_package(session, actor=OFFICER, request_id=request.id)
    assert request.package_state == "queued"


def test_a_failed_build_is_tried_again_after_a_wait_not_at_once(session: Session) -> None:
    """Found by exploratory testing: the three attempts came within a second of each other, so an object store down
    for a minute failed the subject's package for good."""
    person = customer(session)
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="access", received_at=NOW
    )
    package_queue.request_package(session, actor=OFFICER, request_id=request.id)
    first = package_queue.claim_package(session, owner="a", lease_s=60, now=NOW)
    assert first is not None
    assert package_queue.fail_package(session, claim=first, error="object store unreachable", now=NOW) == "queued"

    assert package_queue.claim_package(session, owner="b", lease_s=60, now=NOW + timedelta(seconds=59)) is None
    second = package_queue.claim_package(session, owner="b", lease_s=60, now=NOW + timedelta(seconds=61))
    assert second is not None and second.attempt == 2
    package_queue.fail_package(session, claim=second, error="object store unreachable", now=NOW + timedelta(minutes=2))
    assert package_queue.claim_package(session, owner="c", lease_s=60, now=NOW + timedelta(minutes=6)) is None
    assert package_queue.claim_package(session, owner="c", lease_s=60, now=NOW + timedelta(minutes=8)) is not None


def test_a_claimed_build_is_not_claimed_twice_until_its_lease_expires(
    session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    person = customer(session)
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="access", received_at=NOW
    )
    package_queue.request_package(session, actor=OFFICER, request_id=request.id)
    first = package_queue.claim_package(session, owner="a", lease_s=60, now=NOW)
    assert first is not None and first.request_id == request.id
    assert package_queue.claim_package(session, owner="b", lease_s=60, now=NOW) is None
    taken = package_queue.claim_package(session, owner="b", lease_s=60, now=NOW + timedelta(seconds=61))
    assert taken is not None and taken.attempt == 2
    with pytest.raises(package_queue.PackageLeaseLost):
        package_queue.renew_package_lease(session, claim=first, lease_s=60)


def _plaintext(session: Session, bucket: S3ObjectStore, envelope: Envelope, request_id: str) -> list[bytes]:
    _, reader = package_queue.open_package(session, bucket, envelope, actor=OFFICER, request_id=request_id)
    with reader:
        return [reader.read()]


def test_erasure_withdraws_the_customers_access_package_for_good(
    session: Session, bucket: S3ObjectStore, envelope: Envelope, jobs_runtime: Runtime
) -> None:
    """A ready package copies the customer's calls: erasing them deletes it, says so, and it cannot be built again."""
    request = ready_package(session, bucket, envelope, jobs_runtime)
    erasure_request = subjects.create_request(
        session, actor=OFFICER, customer_ref=request.customer_ref, kind="erasure", received_at=NOW
    )

    done = fulfil_request(session, bucket, actor=OFFICER, request_id=erasure_request.id, answer=Answer(), zone=ORG_ZONE)
    session.flush()
    after_commit(session, bucket, done)
    session.commit()

    session.refresh(request)
    assert (request.package_state, request.package_key) == ("withdrawn", None)
    assert list(bucket.list_versions(f"subject-access/{request.id}/")) == []
    with pytest.raises(Conflict) as download:
        package_queue.open_package(session, bucket, envelope, actor=OFFICER, request_id=request.id)
    assert download.value.why == "package_unavailable"
    with pytest.raises(Conflict) as rebuild:
        package_queue.request_package(session, actor=OFFICER, request_id=request.id)
    assert rebuild.value.why == "package_withdrawn"


def test_a_call_whose_audio_is_missing_is_in_the_package_without_audio(
    session: Session, bucket: S3ObjectStore, envelope: Envelope, jobs_runtime: Runtime
) -> None:
    """A call whose original went missing from the store (reconcile marks it `missing_object`) is still the customer's
    data we hold: its metadata and transcript. Found by exploratory testing: the access package left such a call out
    altogether, and with no other call its README told the customer we hold no recordings of them."""
    person = customer(session)
    call = transcribed(session, aged_call(session, bucket, envelope, started_at=NOW, purposes=["training"]))
    call.customer_id = person.id
    bucket.delete(call.storage_key)
    call.status = RecordingStatus.MISSING_OBJECT  # as reconcile leaves it
    session.flush()
    request = queued_access(session, person.customer_ref)

    subject_access.build_packages(jobs_runtime)

    session.refresh(request)
    assert request.package_state == "ready", request.package_error
    package = downloaded(session, bucket, envelope, request.id)
    names = set(package.namelist())
    assert f"recordings/{call.id}/metadata.json" in names
    transcript = json.loads(package.read(f"recordings/{call.id}/transcript.json"))
    assert transcript["segments"][1]["text"] == "my meter reading is wrong"
    assert not any(name.startswith(f"recordings/{call.id}/audio.") for name in names)
    manifest = json.loads(package.read("manifest.json"))
    assert manifest["recordings"] == [call.id] and manifest["audio_missing"] == [call.id]
    assert b"audio_missing" in package.read("README.txt")
    assert request.outcome["audio_missing"] == [call.id]  # the officer is told, too
