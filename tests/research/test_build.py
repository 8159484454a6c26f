"""Research package builds by the jobs process, against real SeaweedFS on both databases: what a package holds
(manifest, redacted transcripts, pseudonyms), the same SHA-256 after an interrupted build resumes, leases that
keep two builders off one batch, withdrawal of calls excluded since approval, and failing builds."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.orm import Session

from jobs import research as research_jobs
from recordings_service.audit import Actor
from recordings_service.db import utcnow
from recordings_service.errors import Conflict
from recordings_service.models import AuditEvent, BatchItem, Institute, Recording, ResearchBatch
from recordings_service.redaction import find_pii
from recordings_service.research import build_queue, portal
from recordings_service.runtime import Runtime
from recordings_service.transcription.pipeline import TranscriptDraft, save_transcript
from tests.factories.privacy import customer
from tests.factories.recordings import MONO
from tests.factories.research import SEGMENTS, research_call, reset_build

MakeBatch = Callable[..., ResearchBatch]
ReadPackage = Callable[[ResearchBatch], zipfile.ZipFile]
CARD_SEGMENT = {
    "speaker": "customer",
    "start": 9.0,
    "end": 12.0,
    "text": "my card number is 4111 1111 1111 1111",
    "words": [],
}


def with_words(segment: dict[str, Any]) -> dict[str, Any]:
    """The segment with word timings spread evenly over it, as engines give them."""
    said = str(segment["text"]).split()
    step = (segment["end"] - segment["start"]) / len(said)
    words = [
        {"start": segment["start"] + i * step, "end": segment["start"] + (i + 1) * step, "text": " " + word}
        for i, word in enumerate(said)
    ]
    return {**segment, "words": words, "avg_logprob": -0.2, "no_speech_prob": 0.01, "suspect": False}


SAID = [with_words(segment) for segment in [*SEGMENTS, CARD_SEGMENT]]


def study_call(session: Session, runtime: Runtime, **overrides: Any) -> Recording:
    """An eligible call whose customer said an identity code, a phone number, an IBAN and a card number."""
    recording = research_call(session, runtime.store, runtime.envelope, transcribed=False, **overrides)
    draft = TranscriptDraft(
        engine="fake", model="fake", language="en", detected_language=None, segments=SAID, processing_s=0.1
    )
    save_transcript(session, recording_id=recording.id, draft=draft)
    return recording


def refreshed(session: Session, batch: ResearchBatch) -> ResearchBatch:
    session.expire_all()
    return session.get_one(ResearchBatch, batch.id)


def items(session: Session, batch: ResearchBatch) -> list[BatchItem]:
    return list(session.scalars(select(BatchItem).where(BatchItem.batch_id == batch.id).order_by(BatchItem.position)))


def audited(session: Session, action: str) -> Counter[str | None]:
    return Counter(session.scalars(select(AuditEvent.object_id).where(AuditEvent.action == action)))


def test_the_package_holds_each_call_redacted_under_pseudonyms_with_a_true_manifest(
    session: Session, runtime: Runtime, approved_batch: MakeBatch, built_package: ReadPackage, lab: Institute
) -> None:
    people = [customer(session) for _ in range(2)]
    calls = [study_call(session, runtime, customer_id=people[index % 2].id) for index in range(3)]
    calls.append(study_call(session, runtime, customer_id=None, audio=MONO, channels=1, size_bytes=MONO.stat().st_size))
    batch = approved_batch()

    research_jobs.build_batches(runtime)

    batch = refreshed(session, batch)
    assert (batch.state, batch.build_done, batch.items_withdrawn, batch.build_attempts) == ("ready", 4, 0, 1)
    assert batch.package_key == f"exports/{batch.id}/package.zip" and batch.lease_owner is None
    package = built_package(batch)
    plaintext = b"".join(_zip_bytes(runtime, batch))
    assert hashlib.sha256(plaintext).hexdigest() == batch.package_sha256 and len(plaintext) == batch.package_size
    names = package.namelist()
    assert names[0] == "README.txt" and names[-2:] == ["calls.csv", "manifest.csv"]
    manifest = list(csv.DictReader(io.StringIO(package.read("manifest.csv").decode())))
    assert [row["path"] for row in manifest] == names[:-1]
    for row in manifest:
        body = package.read(row["path"])
        assert (hashlib.sha256(body).hexdigest(), len(body)) == (row["sha256"], int(row["size"]))

    rows = list(csv.DictReader(io.StringIO(package.read("calls.csv").decode("utf-8-sig"))))
    assert list(rows[0]) == ["call", "customer", "agent", "started_at", "duration_s", "direction", "queue", "language"]
    by_recording = {item.recording_id: item for item in items(session, batch)}
    assert [row["call"] for row in rows] == [item.call_pseudonym for item in items(session, batch)]
    for call in calls:
        item = by_recording[call.id]
        folder = f"calls/{item.call_pseudonym}"
        audio = package.read(f"{folder}/audio.wav")
        assert hashlib.sha256(audio).hexdigest() == call.sha256 == item.audio_sha256
        transcript = json.loads(package.read(f"{folder}/transcript.json"))
        assert transcript["redacted"] is True and len(transcript["segments"]) == len(SAID)
        assert "[PERSONAL_ID]" in "".join(word["text"] for word in transcript["segments"][1]["words"])
        for segment in transcript["segments"]:
            texts = [segment["text"], "".join(word["text"] for word in segment["words"])]
            assert all(find_pii(text, "en") == [] for text in texts), segment
    for segment in SAID[1:]:  # what the package must not hold was found in what was said
        assert find_pii(str(segment["text"]), "en")
    assert {row["customer"] for row in rows} == {
        by_recording[call.id].customer_pseudonym or "" for call in calls
    } and len({row["customer"] for row in rows}) == 3  # two customers (one twice) and a call without one

    identities = {call.id for call in calls} | {call.agent_ref for call in calls}
    identities |= {person.id for person in people} | {person.customer_ref for person in people}
    pseudonyms = {value for item in by_recording.values() for value in (item.call_pseudonym, item.agent_pseudonym)}
    pseudonyms |= {item.customer_pseudonym for item in by_recording.values() if item.customer_pseudonym}
    assert not any(identity in pseudonym for identity in identities for pseudonym in pseudonyms)
    text = "".join(package.read(name).decode() for name in names if not name.endswith(".wav"))
    assert not any(identity in text for identity in identities)
    for said in ("131052-308T", "4111 1111 1111 1111", "040 123 4567", "FI21 1234 5600 0007 85"):
        assert said not in text
    readme = package.read("README.txt").decode()
    assert "Billing calls study" in readme and lab.name in readme
    assert f"{runtime.settings.public_url}/partner/batches/{batch.id}" in readme and "hävitä" in readme

    exported = session.scalars(select(AuditEvent).where(AuditEvent.action == "recording.research_exported")).all()
    assert Counter(event.object_id for event in exported) == Counter({call.id: 1 for call in calls})
    assert all(
        event.details == {"batch_id": batch.id, "audio_sha256": by_recording[str(event.object_id)].audio_sha256}
        for event in exported
    )
    assert audited(session, "research.package_built") == Counter({batch.id: 1})


def test_redacted_audio_goes_out_muted_in_the_package(
    session: Session, runtime: Runtime, approved_batch: MakeBatch, built_package: ReadPackage
) -> None:
    call = study_call(session, runtime, audio=MONO, channels=1, size_bytes=MONO.stat().st_size)
    batch = approved_batch(audio="redacted")

    research_jobs.build_batches(runtime)

    batch = refreshed(session, batch)
    assert batch.state == "ready", batch.build_error
    [item] = items(session, batch)
    audio = built_package(batch).read(f"calls/{item.call_pseudonym}/audio.wav")
    assert audio[:4] == b"RIFF" and hashlib.sha256(audio).hexdigest() == item.audio_sha256 != call.sha256


class Killed(BaseException):
    """The builder's process dies (no `except Exception` sees it)."""


def failing_after(monkeypatch: pytest.MonkeyPatch, written: int, error: BaseException) -> None:
    """The builder fails once, after `written` items are recorded (each on its own)."""
    monkeypatch.setattr(research_jobs, "RECORD_EVERY_S", 0.0)
    real = research_jobs.record_items
    count = iter(range(1, 10**6))

    def record(*args: Any, **kwargs: Any) -> None:
        if next(count) == written + 1:
            raise error
        real(*args, **kwargs)

    monkeypatch.setattr(research_jobs, "record_items", record)


def test_an_interrupted_build_resumes_to_the_same_package(
    session: Session, runtime: Runtime, approved_batch: MakeBatch, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(4):
        study_call(session, runtime)
    batch = approved_batch()
    research_jobs.build_batches(runtime)
    whole = refreshed(session, batch).package_sha256
    assert whole is not None

    reset_build(session, batch)
    with monkeypatch.context() as patched:
        failing_after(patched, 2, Killed())
        with pytest.raises(Killed):
            research_jobs.build_batches(runtime)
    batch = refreshed(session, batch)
    assert (batch.state, batch.build_done, batch.build_attempts) == ("building", 2, 1)
    research_jobs.build_batches(runtime)  # the dead builder's lease has not expired: nothing to do
    assert refreshed(session, batch).state == "building"
    session.execute(
        update(ResearchBatch).where(ResearchBatch.id == batch.id).values(lease_expires_at=utcnow() - timedelta(1))
    )
    session.commit()
    research_jobs.build_batches(runtime)
    batch = refreshed(session, batch)
    assert (batch.state, batch.build_attempts, batch.package_sha256) == ("ready", 2, whole)

    reset_build(session, batch)
    with monkeypatch.context() as patched:
        failing_after(patched, 1, RuntimeError("store unreachable"))
        research_jobs.build_batches(runtime)  # fails once, then the same run builds it again
    batch = refreshed(session, batch)
    assert (batch.state, batch.build_attempts, batch.package_sha256) == ("ready", 2, whole)
    assert audited(session, "research.package_built") == Counter({batch.id: 3})


def test_two_builders_never_hold_one_batch(session: Session, runtime: Runtime, approved_batch: MakeBatch) -> None:
    study_call(session, runtime)
    batch = approved_batch(approve=False)
    now = utcnow()
    assert build_queue.claim_build(session, owner="a", lease_s=60, now=now) is None  # a draft is not built
    session.execute(update(ResearchBatch).where(ResearchBatch.id == batch.id).values(state="approved", approved_at=now))
    first = build_queue.claim_build(session, owner="a", lease_s=60, now=now)
    assert first is not None and (first.batch_id, first.attempt) == (batch.id, 1)
    assert build_queue.claim_build(session, owner="b", lease_s=60, now=now + timedelta(seconds=59)) is None
    second = build_queue.claim_build(session, owner="b", lease_s=60, now=now + timedelta(seconds=61))
    assert second is not None and (second.batch_id, second.attempt) == (batch.id, 2)
    [item] = items(session, batch)
    with pytest.raises(build_queue.BuildLeaseLost):
        build_queue.renew_build_lease(session, claim=first, lease_s=60)
    with pytest.raises(build_queue.BuildLeaseLost):
        build_queue.record_items(session, claim=first, done=1, lease_s=60, written={item.id: "0" * 64})
    with pytest.raises(build_queue.BuildLeaseLost):
        build_queue.fail_build(session, claim=first, error="too late")
    build_queue.renew_build_lease(session, claim=second, lease_s=60, done=1)
    assert refreshed(session, batch).build_done == 1 and items(session, batch)[0].audio_sha256 is None


def test_concurrent_claims_skip_a_batch_another_builder_is_claiming(engine: Engine, db_kind: str) -> None:
    """PostgreSQL: the second claim passes over the row the first one has locked instead of waiting for it."""
    if db_kind != "postgresql":
        pytest.skip("SQLite has one writer at a time, which makes the claim atomic there")
    with Session(engine) as setup:
        lab = Institute(
            name="Concurrency lab",
            country="FI",
            agreement_ref="DPA-1",
            agreement_date=utcnow().date(),
            contact="a@b.fi",
        )
        setup.add(lab)
        setup.flush()
        now = utcnow()
        batch = ResearchBatch(
            study="s", purpose="p", institute_id=lab.id, criteria={}, audio="original", metadata_fields=[],
            study_end=(now + timedelta(days=9)).date(), access_start=now, access_end=now + timedelta(days=1),
            state="approved", selected=1, excluded={}, approved_at=now, follow_up=[],
        )  # fmt: skip
        setup.add(batch)
        setup.commit()
        ids = (lab.id, batch.id)
    try:
        with Session(engine) as first, Session(engine) as second:
            claimed = build_queue.claim_build(first, owner="a", lease_s=60)  # not committed: the row stays locked
            second.execute(text("SET LOCAL lock_timeout = '5s'"))
            assert build_queue.claim_build(second, owner="b", lease_s=60) is None
            assert claimed is not None and claimed.batch_id == ids[1]
            first.commit()
            second.rollback()
            assert build_queue.claim_build(second, owner="b", lease_s=60) is None  # leased now
    finally:
        with Session(engine) as cleanup:
            cleanup.execute(delete(ResearchBatch).where(ResearchBatch.id == ids[1]))
            cleanup.execute(delete(Institute).where(Institute.id == ids[0]))
            cleanup.commit()


def test_calls_excluded_since_approval_are_withdrawn(
    session: Session, runtime: Runtime, approved_batch: MakeBatch, built_package: ReadPackage
) -> None:
    objector, other = customer(session), customer(session)
    kept = study_call(session, runtime, customer_id=other.id)
    objected = study_call(session, runtime, customer_id=objector.id)
    deleted = study_call(session, runtime)
    batch = approved_batch()
    assert batch.selected == 3
    objector.objects_to_research = True  # after the approval
    session.execute(update(Recording).where(Recording.id == deleted.id).values(status="deleted"))
    session.commit()

    research_jobs.build_batches(runtime)

    batch = refreshed(session, batch)
    assert (batch.state, batch.items_withdrawn, batch.build_done) == ("ready", 2, 3)
    reasons = {item.recording_id: item.withdrawn_reason for item in items(session, batch)}
    assert reasons == {kept.id: None, objected.id: "objects_to_research", deleted.id: "deleted"}
    [item] = [item for item in items(session, batch) if item.withdrawn_reason is None]
    package = built_package(batch)
    assert {name.split("/")[1] for name in package.namelist() if name.startswith("calls/")} == {item.call_pseudonym}
    assert len(list(csv.DictReader(io.StringIO(package.read("calls.csv").decode("utf-8-sig"))))) == 1
    assert audited(session, "recording.research_exported") == Counter({kept.id: 1})


def test_a_build_failing_every_attempt_keeps_its_error_until_retried(
    session: Session, runtime: Runtime, approved_batch: MakeBatch, approver: Actor
) -> None:
    call = study_call(session, runtime)
    batch = approved_batch()
    session.execute(update(Recording).where(Recording.id == call.id).values(wrapped_data_key=b"not a key"))
    session.commit()

    research_jobs.build_batches(runtime)

    batch = refreshed(session, batch)
    assert (batch.state, batch.build_attempts, batch.lease_owner) == ("approved", build_queue.MAX_ATTEMPTS, None)
    assert batch.build_error and "master key" in batch.build_error
    assert build_queue.claim_build(session, owner="x", lease_s=60) is None  # not again by itself
    build_queue.retry_build(session, actor=approver, batch_id=batch.id)
    assert (batch.build_attempts, batch.build_error) == (0, None)
    with pytest.raises(Conflict):
        build_queue.retry_build(session, actor=approver, batch_id=batch.id)
    assert audited(session, "research.build_retried") == Counter({batch.id: 1})
    claim = build_queue.claim_build(session, owner="x", lease_s=60)
    assert claim is not None and claim.batch_id == batch.id


def _zip_bytes(runtime: Runtime, batch: ResearchBatch) -> Iterator[bytes]:
    assert batch.package_size is not None
    return portal.package_bytes(runtime.store, runtime.envelope, batch, start=0, stop=batch.package_size)


def test_a_builder_whose_batch_expired_meanwhile_drops_its_work(
    session: Session, runtime: Runtime, approved_batch: MakeBatch
) -> None:
    study_call(session, runtime)
    batch = approved_batch()
    claim = build_queue.claim_build(session, owner="slow", lease_s=60)
    assert claim is not None
    now = utcnow()  # the window ends and the expiry job purges exports/<batch>/ while the build runs
    session.execute(
        update(ResearchBatch)
        .where(ResearchBatch.id == batch.id)
        .values(state="expired", lease_owner=None, lease_expires_at=None, package_purged_at=now)
    )
    session.commit()

    assert research_jobs.build_one(runtime, claim) == "lease_lost"

    batch = refreshed(session, batch)
    assert (batch.state, batch.package_sha256, batch.package_purged_at) == ("expired", None, None)  # purged again
    assert audited(session, "recording.research_exported") == Counter()
