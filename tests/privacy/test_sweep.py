"""The retention sweep against real SeaweedFS and both databases: what goes, what stays, and resumability."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from jobs import retention as retention_job
from jobs.retention import sweep
from recordings_service.models import (
    Annotation,
    AuditEvent,
    DeletionReceipt,
    Evaluation,
    EvaluationAnswer,
    Recording,
    SegmentVerification,
    Tombstone,
    Transcript,
    TranscriptionJob,
)
from recordings_service.privacy import deletion as deletion_module
from recordings_service.privacy import holds
from recordings_service.privacy.deletion import delete_recording, derived_prefix
from recordings_service.privacy.sweep import check_retention, recording_id_of
from recordings_service.storage.encryption import DecryptionFailed, Envelope
from recordings_service.storage.object_store import ObjectVersion, S3ObjectStore
from recordings_service.transcription.search_index import index_rows
from tests.factories.privacy import OFFICER, aged_call, customer, reload, reviewed

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=800)  # past 12 months, within 36


def versions_of(bucket: S3ObjectStore, recording: Recording) -> list[str]:
    return [
        version.key
        for prefix in (recording.storage_key, derived_prefix(recording.id))
        for version in bucket.list_versions(prefix)
    ]


def deletions_audited(session: Session) -> Counter[str]:
    return Counter(session.scalars(select(AuditEvent.object_id).where(AuditEvent.action == "recording.deleted")))


def test_a_due_call_loses_everything_but_its_tombstone_and_scores(
    session: Session, sessions: sessionmaker[Session], bucket: S3ObjectStore, envelope: Envelope
) -> None:
    call = reviewed(session, aged_call(session, bucket, envelope, started_at=LONG_AGO, purposes=["training"]))
    kept_until = call.retain_until
    ciphertext = bucket.get(call.storage_key).read()
    # A second original: PCI muting replaced it, and the old one's removal after the commit failed.
    bucket.put(call.storage_key + ".pci-0123456789", io.BytesIO(ciphertext))
    call.pci_redacted_at = NOW
    assert len(versions_of(bucket, call)) == 5  # two originals, two waveform versions, a clip
    assert recording_id_of(call.storage_key + ".pci-0123456789") == call.id
    transcript_id = session.scalars(select(Transcript.id).where(Transcript.recording_id == call.id)).one()

    report = sweep(sessions, bucket, now=NOW, batch=10, actor=OFFICER, dry_run=False)

    assert report.recording_ids == [call.id]
    deleted = reload(session, call.id)
    assert deleted.status == "deleted" and deleted.wrapped_data_key == b"" and deleted.customer_id is None
    assert deleted.retain_until is None  # the tombstone keeps the date it was deleted for
    assert versions_of(bucket, deleted) == []
    with pytest.raises(DecryptionFailed):  # crypto-shredded: a saved copy of the ciphertext is useless now
        envelope.decrypting_stream(io.BytesIO(ciphertext), wrapped=deleted.wrapped_data_key, object_id=call.id).read()
    for model, column in (
        (Transcript, Transcript.recording_id),
        (Annotation, Annotation.recording_id),
        (TranscriptionJob, TranscriptionJob.recording_id),
    ):
        assert session.scalar(select(func.count()).select_from(model).where(column == call.id)) == 0
    assert (
        session.scalar(
            select(func.count())
            .select_from(SegmentVerification)
            .where(SegmentVerification.transcript_id == transcript_id)
        )
        == 0
    )
    assert session.scalar(select(func.count()).select_from(index_rows).where(index_rows.c.recording_id == call.id)) == 0
    evaluation = session.scalars(select(Evaluation).where(Evaluation.recording_id == call.id)).one()
    assert evaluation.comment == "" and evaluation.score is not None
    assert all(
        answer.comment == ""
        for answer in session.scalars(select(EvaluationAnswer).where(EvaluationAnswer.evaluation_id == evaluation.id))
    )
    tombstone = session.get_one(Tombstone, call.id)
    assert (tombstone.started_at, tombstone.purposes, tombstone.reason) == (LONG_AGO, ["training"], "retention")
    assert tombstone.retain_until == kept_until is not None and tombstone.deleted_by == "officer"
    assert deletions_audited(session) == {call.id: 1}
    receipt = report.receipt
    assert receipt is not None and receipt.recordings == 1
    assert receipt.first_recording_id == receipt.last_recording_id == call.id
    assert receipt.counts["object_versions"] == 5 and receipt.counts["transcripts"] == 1
    assert receipt.counts["annotations"] == 1 and receipt.counts["evaluation_comments"] == 2


def test_versions_their_rows_do_not_know_are_left_by_the_sweep_and_removed_by_its_proof(
    session: Session,
    sessions: sessionmaker[Session],
    bucket: S3ObjectStore,
    envelope: Envelope,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sweep deletes an original by the version id its row keeps and each derivative by its row in
    `derived_versions`, listing nothing; versions written out of band are the proof's to find, and the proof
    after every sweep (daily job, CLI) removes them. Recordings from before those ids were kept are listed."""
    known = aged_call(session, bucket, envelope, started_at=LONG_AGO, purposes=["training"])
    unknown_original = aged_call(session, bucket, envelope, started_at=LONG_AGO, purposes=["training"])
    unknown_original.storage_version_id = None  # stored before rows kept it
    unknown_derived = aged_call(session, bucket, envelope, started_at=LONG_AGO, purposes=["training"])
    unknown_derived.derived_versions_known = False  # derivatives from before migration 0029
    for call in (known, unknown_original, unknown_derived):
        assert call.storage_key in [version.key for version in bucket.list_versions(call.storage_key)]
        bucket.put(call.storage_key, io.BytesIO(b"a copy put by hand"))
        bucket.put(f"{derived_prefix(call.id)}peaks.json", io.BytesIO(b"[9]"))
    session.commit()
    listed: list[str] = []
    list_versions = bucket.list_versions

    def spied(prefix: str) -> Iterator[ObjectVersion]:
        listed.append(prefix)
        return list_versions(prefix)

    monkeypatch.setattr(bucket, "list_versions", spied)  # the real store, with a record of what was listed

    sweep(sessions, bucket, now=NOW, batch=10, actor=OFFICER, dry_run=False)

    monkeypatch.undo()
    assert not any(known.id in prefix for prefix in listed)
    assert sorted(listed) == sorted(
        [*deletion_module.object_prefixes(unknown_original), derived_prefix(unknown_derived.id)]
    )
    assert versions_of(bucket, reload(session, unknown_original.id)) == []
    assert len(versions_of(bucket, reload(session, unknown_derived.id))) == 1  # its original's copy by hand
    assert len(versions_of(bucket, reload(session, known.id))) == 2  # both copies by hand
    assert check_retention(session, bucket, now=NOW).orphans == 3
    assert retention_job.prove(sessions, bucket, now=NOW, actor=OFFICER, clean=True).clean
    for call in (known, unknown_derived):
        assert versions_of(bucket, reload(session, call.id)) == []


def test_held_and_not_yet_due_calls_survive(
    session: Session, sessions: sessionmaker[Session], bucket: S3ObjectStore, envelope: Envelope
) -> None:
    disputed = customer(session)
    held_by_customer = aged_call(session, bucket, envelope, started_at=LONG_AGO, purposes=[], customer_id=disputed.id)
    held_alone = aged_call(session, bucket, envelope, started_at=LONG_AGO, purposes=["training"])
    agreement = aged_call(
        session, bucket, envelope, started_at=LONG_AGO, purposes=["verification"], agreement_made=True
    )
    due = aged_call(session, bucket, envelope, started_at=LONG_AGO, purposes=["verification"], agreement_made=False)
    holds.place_hold(session, actor=OFFICER, reason="dispute 2026-17", customer_ref=disputed.customer_ref)
    holds.place_hold(session, actor=OFFICER, reason="complaint", recording_id=held_alone.id)
    session.flush()

    assert check_retention(session, bucket, now=NOW).overdue == 1
    report = sweep(sessions, bucket, now=NOW, batch=10, actor=OFFICER, dry_run=False)

    assert report.recording_ids == [due.id]
    for kept in (held_by_customer, held_alone, agreement):
        assert reload(session, kept.id).status != "deleted"
        assert len(versions_of(bucket, kept)) == 4
    assert check_retention(session, bucket, now=NOW).clean


def test_a_dry_run_lists_and_deletes_nothing(
    session: Session, sessions: sessionmaker[Session], bucket: S3ObjectStore, envelope: Envelope
) -> None:
    calls = [aged_call(session, bucket, envelope, started_at=LONG_AGO, purposes=["training"]) for _ in range(3)]
    report = sweep(sessions, bucket, now=NOW, batch=2, actor=OFFICER, dry_run=True)
    assert report.recording_ids == sorted(call.id for call in calls)
    assert report.receipt is None
    assert all(reload(session, call.id).status != "deleted" for call in calls)
    assert check_retention(session, bucket, now=NOW).overdue == 3


def test_a_deletion_committed_without_its_objects_leaves_orphans_the_next_sweep_removes(
    session: Session, sessions: sessionmaker[Session], bucket: S3ObjectStore, envelope: Envelope
) -> None:
    calls = [aged_call(session, bucket, envelope, started_at=LONG_AGO, purposes=["training"]) for _ in range(3)]
    # A sweep killed right after its first commit: the row is deleted, the objects are not.
    with sessions() as interrupted:
        delete_recording(interrupted, bucket, recording_id=calls[0].id, reason="retention", actor=OFFICER)
        interrupted.commit()

    assert check_retention(session, bucket, now=NOW).overdue == 2
    assert check_retention(session, bucket, now=NOW).orphans == 3  # keys: the original, waveform and clip
    report = sweep(sessions, bucket, now=NOW, batch=10, actor=OFFICER, dry_run=False)

    assert len(report.orphan_keys) == 3 and report.counts["orphan_object_versions"] == 4
    assert report.recording_ids == sorted(call.id for call in calls[1:])
    assert check_retention(session, bucket, now=NOW).clean
    assert deletions_audited(session) == {call.id: 1 for call in calls}


class Killed(BaseException):
    """The process dies (SIGKILL): nothing after this point of the sweep runs."""


# Where the process dies, in a sweep of DUE calls in batches of two (5 batches, each one transaction):
# inside a batch's transaction after its events were half written, or after all its statements (before
# the commit); after the commit before any object went; while deleting the batch's objects; or while
# writing the receipt. Twenty points in all.
DUE = 10
KILL_POINTS = [
    *(("audit", nth) for nth in range(1, DUE // 2)),
    *(("transaction", nth) for nth in range(1, DUE // 2 + 1)),
    *(("committed", nth) for nth in range(1, DUE // 2 + 1)),
    *(("objects", nth) for nth in range(1, DUE // 2 + 1)),
    ("receipt", 1),
]


@pytest.mark.parametrize(("where", "nth"), KILL_POINTS)
def test_a_sweep_killed_part_way_then_rerun_ends_as_one_clean_run(
    where: str,
    nth: int,
    session: Session,
    sessions: sessionmaker[Session],
    bucket: S3ObjectStore,
    envelope: Envelope,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = [aged_call(session, bucket, envelope, started_at=LONG_AGO, purposes=["training"]) for _ in range(DUE)]
    kept = aged_call(session, bucket, envelope, started_at=NOW - timedelta(days=10), purposes=["training"])
    real = {name: getattr(retention_job, name) for name in ("purge_prefixes", "delete_due", "record_receipt")}
    real_record_events = deletion_module.record_events
    seen = Counter[str]()

    def purge_then_die(
        store: S3ObjectStore,
        prefixes: dict[str, tuple[str, ...]],
        *,
        workers: int,
        known: Sequence[tuple[str, str]] = (),
    ) -> object:
        seen["objects"] += 1  # batches of committed deletions (the first run has nothing pending)
        if seen["objects"] == nth and where == "committed":
            raise Killed  # the batch committed, none of its objects went
        if seen["objects"] == nth:
            # The first recording's objects went, then the process died.
            real["purge_prefixes"](store, dict(list(prefixes.items())[:1]), workers=workers, known=known[:1])
            raise Killed
        return real["purge_prefixes"](store, prefixes, workers=workers, known=known)

    def delete_then_die(session: Session, *args: object, **kwargs: object) -> object:
        deletion = real["delete_due"](session, *args, **kwargs)
        seen["transaction"] += 1
        if seen["transaction"] == nth:
            raise Killed  # rows deleted and flushed, not committed
        return deletion

    def audit_half_then_die(session: Session, *, items: list[object], **kwargs: object) -> object:
        seen["audit"] += 1
        if seen["audit"] == nth:
            real_record_events(session, items=items[: len(items) // 2], **kwargs)
            raise Killed  # half of the batch's deletions audited, in its open transaction
        return real_record_events(session, items=items, **kwargs)

    def die(*_args: object, **_kwargs: object) -> None:
        raise Killed

    patched = {
        "objects": (retention_job, "purge_prefixes", purge_then_die),
        "committed": (retention_job, "purge_prefixes", purge_then_die),
        "transaction": (retention_job, "delete_due", delete_then_die),
        "audit": (deletion_module, "record_events", audit_half_then_die),
    }
    module, name, replacement = patched.get(where, (retention_job, "record_receipt", die))
    original = getattr(module, name)
    monkeypatch.setattr(module, name, replacement)
    with pytest.raises(Killed):
        sweep(sessions, bucket, now=NOW, batch=2, actor=OFFICER, dry_run=False)
    monkeypatch.setattr(module, name, original)
    assert not check_retention(session, bucket, now=NOW).clean or where == "receipt"

    sweep(sessions, bucket, now=NOW, batch=2, actor=OFFICER, dry_run=False)

    assert check_retention(session, bucket, now=NOW).clean
    assert {reload(session, call.id).status for call in calls} == {"deleted"}
    assert all(versions_of(bucket, call) == [] for call in calls)
    assert len(versions_of(bucket, kept)) == 4
    assert deletions_audited(session) == {call.id: 1 for call in calls}
    assert set(session.scalars(select(Tombstone.recording_id))) == {call.id for call in calls}
    assert session.scalar(select(func.count()).select_from(DeletionReceipt)) >= 1


def test_a_held_recording_is_refused_by_delete_recording(
    session: Session, bucket: S3ObjectStore, envelope: Envelope
) -> None:
    from recordings_service.errors import Conflict

    call = aged_call(session, bucket, envelope, started_at=LONG_AGO, purposes=["training"])
    holds.place_hold(session, actor=OFFICER, reason="court order", recording_id=call.id)
    with pytest.raises(Conflict):
        delete_recording(session, bucket, recording_id=call.id, reason="erasure", actor=OFFICER)


def test_a_recording_that_cannot_be_deleted_keeps_only_itself_from_its_batch(
    session: Session,
    sessions: sessionmaker[Session],
    bucket: S3ObjectStore,
    envelope: Envelope,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = [aged_call(session, bucket, envelope, started_at=LONG_AGO, purposes=["training"]) for _ in range(4)]
    bad = sorted(call.id for call in calls)[1]
    real_delete_due = retention_job.delete_due

    def refuse_bad(session: Session, *, recording_ids: list[str], **kwargs: object) -> object:
        deletions = real_delete_due(session, recording_ids=recording_ids, **kwargs)  # type: ignore[arg-type]
        if bad in recording_ids:
            raise RuntimeError("a row the sweep does not know of")  # after its statements, before the commit
        return deletions

    monkeypatch.setattr(retention_job, "delete_due", refuse_bad)
    report = sweep(sessions, bucket, now=NOW, batch=4, actor=OFFICER, dry_run=False)

    assert report.counts["failed"] == 1 and "skipped" not in report.counts
    assert report.recording_ids == sorted(call.id for call in calls if call.id != bad)
    assert reload(session, bad).status != "deleted" and len(versions_of(bucket, reload(session, bad))) == 4
    assert deletions_audited(session) == {call.id: 1 for call in calls if call.id != bad}

    monkeypatch.setattr(retention_job, "delete_due", real_delete_due)
    assert sweep(sessions, bucket, now=NOW, batch=4, actor=OFFICER, dry_run=False).recording_ids == [bad]
    assert check_retention(session, bucket, now=NOW).clean
    assert deletions_audited(session) == {call.id: 1 for call in calls}
