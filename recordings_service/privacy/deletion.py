"""Deleting a recording: its rows go, its data key is destroyed, a tombstone stays; objects go after commit.

`delete_recording` works in the caller's transaction and returns the object keys to delete. The caller
commits first, then removes every version of those keys (`purge_objects`): a crash in between leaves
objects of a recording that is already `deleted`, which `sweep.find_orphans` finds and the next sweep
removes. Destroying the wrapped data key makes every copy of the ciphertext unreadable at once, backups
and stray versions included (crypto-shredding).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Executable, delete, select, update
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.db import utcnow
from recordings_service.errors import Conflict, NotFound
from recordings_service.models import (
    Annotation,
    Evaluation,
    EvaluationAnswer,
    Recording,
    SegmentVerification,
    Tombstone,
    Transcript,
    TranscriptionJob,
)
from recordings_service.models.recording import RecordingStatus
from recordings_service.privacy.holds import is_held
from recordings_service.storage.object_store import ObjectStore
from recordings_service.transcription.search_index import unindex_recording


@dataclass(frozen=True)
class Deletion:
    """What one deletion removed (rows by kind) and the object keys whose every version must go next."""

    recording_id: str
    keys: tuple[str, ...]
    counts: dict[str, int] = field(default_factory=dict)


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
    counts = _delete_rows(session, recording_id)
    keys = object_keys(store, recording)
    session.add(
        Tombstone(
            recording_id=recording.id,
            started_at=recording.started_at,
            purposes=list(recording.purposes),
            retain_until=recording.retain_until,
            deleted_at=now or utcnow(),
            reason=reason,
            deleted_by=actor.name,
        )
    )
    recording.wrapped_data_key = b""
    recording.status = RecordingStatus.DELETED
    recording.customer_id = None  # the link to a data subject goes with the data
    counts["data_keys"] = 1
    record_event(
        session,
        actor=actor,
        action="recording.deleted",
        object_type="recording",
        object_id=recording.id,
        details={"reason": reason, "object_keys": len(keys), **counts},
    )
    session.flush()
    return Deletion(recording_id=recording.id, keys=keys, counts=counts)


def object_keys(store: ObjectStore, recording: Recording) -> tuple[str, ...]:
    """The original (also a replaced one, e.g. before PCI muting: `<id>.pci-…`) and every derivative's key."""
    folders = {recording.storage_key.rsplit("/", 1)[0], f"originals/{recording.created_at:%Y/%m}"}
    prefixes = [f"{folder}/{recording.id}" for folder in sorted(folders)] + [derived_prefix(recording.id)]
    found = {version.key for prefix in prefixes for version in store.list_versions(prefix)}
    return tuple(sorted(found | {recording.storage_key}))


def delete_if_due(
    session: Session, store: ObjectStore, *, recording_id: str, now: datetime, actor: Actor
) -> Deletion | None:
    """The sweep's step: delete the recording if, checked again under its row lock, it is still due."""
    recording = locked_recording(session, recording_id)
    if (
        recording is None
        or recording.status == RecordingStatus.DELETED
        or recording.retain_until is None
        or recording.retain_until >= now
        or is_held(session, recording)
    ):
        return None
    return delete_recording(session, store, recording_id=recording_id, reason="retention", actor=actor, now=now)


def purge_objects(store: ObjectStore, keys: tuple[str, ...] | list[str]) -> int:
    """Delete every version (and delete marker) of each key, after the deletion committed; returns how many."""
    return sum(store.delete(key) for key in keys)


def locked_recording(session: Session, recording_id: str) -> Recording | None:
    """The recording row, locked against a concurrent sweep, hold or erasure, as the database has it now."""
    return session.scalars(
        select(Recording)
        .where(Recording.id == recording_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def _delete_rows(session: Session, recording_id: str) -> dict[str, int]:
    transcripts = select(Transcript.id).where(Transcript.recording_id == recording_id)
    evaluations = select(Evaluation.id).where(Evaluation.recording_id == recording_id)
    counts = {
        "segment_verifications": _rows(
            session, delete(SegmentVerification).where(SegmentVerification.transcript_id.in_(transcripts))
        ),
        "transcripts": _rows(session, delete(Transcript).where(Transcript.recording_id == recording_id)),
        "annotations": _rows(session, delete(Annotation).where(Annotation.recording_id == recording_id)),
        "transcription_jobs": _rows(
            session, delete(TranscriptionJob).where(TranscriptionJob.recording_id == recording_id)
        ),
        # Scores stay for the trends; what evaluators wrote about the call goes.
        "evaluation_comments": _rows(
            session,
            update(Evaluation)
            .where(Evaluation.recording_id == recording_id, Evaluation.comment != "")
            .values(comment=""),
        )
        + _rows(
            session,
            update(EvaluationAnswer)
            .where(EvaluationAnswer.evaluation_id.in_(evaluations), EvaluationAnswer.comment != "")
            .values(comment=""),
        ),
    }
    unindex_recording(session, recording_id=recording_id)
    return counts


def _rows(session: Session, statement: Executable) -> int:
    result = cast(CursorResult[Any], session.execute(statement, execution_options={"synchronize_session": False}))
    return int(result.rowcount)
