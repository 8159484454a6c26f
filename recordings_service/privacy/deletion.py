"""Deleting a recording: its rows go, its data key is destroyed, a tombstone stays; objects go after commit.

`delete_recording` works in the caller's transaction and returns the object keys to delete. The caller
commits first, then removes every version of those keys (`purge_objects`). The sweep lists and deletes
the objects of many committed deletions at once (`purge_prefixes`) and then marks their tombstones
purged: a crash in between leaves tombstones still pending, whose objects the next sweep removes
(`pending_purges`), and `sweep.find_orphans` finds any object left of a deleted recording. Destroying
the wrapped data key makes every copy of the ciphertext unreadable at once, backups and stray versions
included (crypto-shredding).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Executable, delete, exists, select, update
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.db import utcnow
from recordings_service.errors import Conflict, NotFound
from recordings_service.models import (
    Annotation,
    Evaluation,
    EvaluationAnswer,
    Nomination,
    Recording,
    SegmentVerification,
    Tombstone,
    TrainingClip,
    Transcript,
    TranscriptionJob,
)
from recordings_service.models.recording import RecordingStatus
from recordings_service.privacy.holds import is_held
from recordings_service.storage.object_store import DELETE_BATCH, ObjectStore, ObjectVersion
from recordings_service.transcription.search_index import index_rows, unindex_recording


@dataclass(frozen=True)
class Deletion:
    """What one deletion removed (rows by kind) and the object keys whose every version must go next."""

    recording_id: str
    keys: tuple[str, ...]
    counts: dict[str, int] = field(default_factory=dict)
    prefixes: tuple[str, ...] = ()  # every object of the recording is under one of these


def derived_prefix(recording_id: str) -> str:
    return f"derived/{recording_id}/"


def delete_recording(
    session: Session, store: ObjectStore, *, recording_id: str, reason: str, actor: Actor, now: datetime | None = None
) -> Deletion | None:
    """Delete one recording's personal data; None if it was deleted already. A held recording is refused."""
    recording = locked_recording(session, recording_id)
    if recording is None:
        raise NotFound(f"recording {recording_id} not found")
    if recording.status == RecordingStatus.DELETED:
        return None
    if is_held(session, recording):
        raise Conflict(f"recording {recording_id} is on legal hold")
    keys = object_keys(store, recording)
    deletion = _erase(session, recording, reason=reason, actor=actor, now=now or utcnow(), object_count=len(keys))
    return Deletion(recording_id=deletion.recording_id, keys=keys, counts=deletion.counts, prefixes=deletion.prefixes)


def object_prefixes(recording: Recording) -> tuple[str, ...]:
    """Where a recording's objects live: its original (also a replaced one, `<id>.pci-…`) and `derived/<id>/`."""
    folders = {recording.storage_key.rsplit("/", 1)[0], f"originals/{recording.created_at:%Y/%m}"}
    return (*[f"{folder}/{recording.id}" for folder in sorted(folders)], derived_prefix(recording.id))


def object_keys(store: ObjectStore, recording: Recording) -> tuple[str, ...]:
    """The original (also a replaced one, e.g. before PCI muting: `<id>.pci-…`) and every derivative's key."""
    found = {version.key for version in versions_under(store, object_prefixes(recording))}
    return tuple(sorted(found | {recording.storage_key}))


def delete_if_due(session: Session, *, recording_id: str, now: datetime, actor: Actor) -> Deletion | None:
    """The sweep's step: delete the recording's rows if, checked again under its row lock, it is still due.

    The store is not touched: the sweep lists and deletes the objects of a whole batch after its commits.
    """
    recording = locked_recording(session, recording_id)
    if (
        recording is None
        or recording.status == RecordingStatus.DELETED
        or recording.retain_until is None
        or recording.retain_until >= now
        or is_held(session, recording)
    ):
        return None
    return _erase(session, recording, reason="retention", actor=actor, now=now, object_count=None)


def pending_purges(session: Session, *, limit: int) -> dict[str, tuple[str, ...]]:
    """Deleted recordings whose objects may remain (a run killed after a commit, an erasure): prefixes by id."""
    rows = session.scalars(
        select(Recording)
        .join(Tombstone, Tombstone.recording_id == Recording.id)
        .where(Tombstone.objects_purged_at.is_(None))
        .order_by(Recording.id)
        .limit(limit)
    )
    return {recording.id: object_prefixes(recording) for recording in rows}


def mark_purged(session: Session, recording_ids: Sequence[str], *, now: datetime) -> None:
    """Every object version of these deleted recordings is gone."""
    if recording_ids:
        _rows(
            session,
            update(Tombstone).where(Tombstone.recording_id.in_(recording_ids)).values(objects_purged_at=now),
        )


def purge_prefixes(store: ObjectStore, prefixes: dict[str, tuple[str, ...]], *, workers: int) -> list[ObjectVersion]:
    """Delete every version under each recording's prefixes, after the deletions committed; returns them.

    Both steps wait on the store, not the CPU, so they run in `workers` threads: the listings one per
    recording, the deletions in shares of at most 1000 versions (one `DeleteObjects` call each).
    """
    with ThreadPoolExecutor(max(1, workers)) as pool:
        found = [
            version
            for versions in pool.map(lambda item: versions_under(store, item), prefixes.values())
            for version in versions
        ]
        share = min(DELETE_BATCH, max(1, -(-len(found) // max(1, workers))))
        pairs = [(version.key, version.version_id) for version in found]
        list(pool.map(store.delete_versions, [pairs[at : at + share] for at in range(0, len(pairs), share)]))
    return found


def purge_objects(store: ObjectStore, keys: tuple[str, ...] | list[str]) -> int:
    """Delete every version (and delete marker) of each key, after the deletion committed; returns how many."""
    return sum(store.delete(key) for key in keys)


def _erase(
    session: Session, recording: Recording, *, reason: str, actor: Actor, now: datetime, object_count: int | None
) -> Deletion:
    counts = _delete_rows(session, recording.id, reason=reason, now=now)
    session.add(
        Tombstone(
            recording_id=recording.id,
            started_at=recording.started_at,
            purposes=list(recording.purposes),
            retain_until=recording.retain_until,
            deleted_at=now,
            reason=reason,
            deleted_by=actor.name,
        )
    )
    recording.wrapped_data_key = b""
    recording.status = RecordingStatus.DELETED
    recording.customer_id = None  # the link to a data subject goes with the data
    counts["data_keys"] = 1
    details: dict[str, Any] = {"reason": reason, **counts}
    if object_count is not None:
        details["object_keys"] = object_count
    record_event(
        session,
        actor=actor,
        action="recording.deleted",
        object_type="recording",
        object_id=recording.id,
        details=details,
    )
    session.flush()
    return Deletion(
        recording_id=recording.id, keys=(recording.storage_key,), counts=counts, prefixes=object_prefixes(recording)
    )


def versions_under(store: ObjectStore, prefixes: Iterable[str]) -> list[ObjectVersion]:
    """Every version of a recording's objects under its `object_prefixes`."""
    # `originals/…/<id>` as a prefix also matches a longer id: keep the key itself and its `.suffix` copies.
    return [
        version
        for prefix in prefixes
        for version in store.list_versions(prefix)
        if prefix.endswith("/") or version.key == prefix or version.key.startswith(prefix + ".")
    ]


def locked_recording(session: Session, recording_id: str) -> Recording | None:
    """The recording row, locked against a concurrent sweep, hold or erasure, as the database has it now."""
    return session.scalars(
        select(Recording)
        .where(Recording.id == recording_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def _delete_rows(session: Session, recording_id: str, *, reason: str, now: datetime) -> dict[str, int]:
    # One probe instead of a statement per table: a sweep's recording often has nothing in most of them.
    # It runs under the recording's row lock, which a new child row's foreign-key check waits for (PostgreSQL).
    found = session.execute(
        select(
            *(
                exists().where(column == recording_id)
                for column in (
                    Transcript.recording_id,
                    Annotation.recording_id,
                    TranscriptionJob.recording_id,
                    Evaluation.recording_id,
                    index_rows.c.recording_id,
                    Nomination.recording_id,
                    TrainingClip.recording_id,
                )
            )
        )
    ).one()
    has_transcript, has_annotations, has_job, has_evaluations, indexed, nominated, clipped = tuple(found)
    counts = dict.fromkeys(
        (
            "segment_verifications",
            "transcripts",
            "annotations",
            "transcription_jobs",
            "evaluation_comments",
            "training_nominations",
            "training_clips",
        ),
        0,
    )
    if has_transcript:
        transcripts = select(Transcript.id).where(Transcript.recording_id == recording_id)
        counts["segment_verifications"] = _rows(
            session, delete(SegmentVerification).where(SegmentVerification.transcript_id.in_(transcripts))
        )
        counts["transcripts"] = _rows(session, delete(Transcript).where(Transcript.recording_id == recording_id))
    if has_annotations:
        counts["annotations"] = _rows(session, delete(Annotation).where(Annotation.recording_id == recording_id))
    if has_job:
        counts["transcription_jobs"] = _rows(
            session, delete(TranscriptionJob).where(TranscriptionJob.recording_id == recording_id)
        )
    if has_evaluations:
        # Scores stay for the trends; what evaluators wrote about the call goes.
        evaluations = select(Evaluation.id).where(Evaluation.recording_id == recording_id)
        counts["evaluation_comments"] = _rows(
            session,
            update(Evaluation)
            .where(Evaluation.recording_id == recording_id, Evaluation.comment != "")
            .values(comment=""),
        ) + _rows(
            session,
            update(EvaluationAnswer)
            .where(EvaluationAnswer.evaluation_id.in_(evaluations), EvaluationAnswer.comment != "")
            .values(comment=""),
        )
    if indexed:
        unindex_recording(session, recording_id=recording_id)
    if nominated:
        nominations = delete(Nomination).where(Nomination.recording_id == recording_id)
        counts["training_nominations"] = _rows(session, nominations)
    if clipped:
        # The clips' objects go with `derived/<id>/`; their rows keep the span and the reason, so a training set
        # shows the gap, and lose what the trainer wrote about the call.
        counts["training_clips"] = _rows(
            session,
            update(TrainingClip)
            .where(TrainingClip.recording_id == recording_id, TrainingClip.removed_at.is_(None))
            .values(title="", tags=[], notes="", muted_spans=[], removed_at=now, removed_reason=reason),
        )
    return counts


def _rows(session: Session, statement: Executable) -> int:
    result = cast(CursorResult[Any], session.execute(statement, execution_options={"synchronize_session": False}))
    return int(result.rowcount)
