"""Integrity of stored originals: decrypt each one as a stream, re-hash it and compare with the SHA-256 recorded
at ingest (or for the card-muted copy that replaced it under PCI DSS).

Every original is hashed before anything is written, so the audit chain is locked only for the few findings
at the end, never for the hours a full run can take. Each finding is one audit event; the run's counts are kept
for the compliance dashboard.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor, record_event
from recordings_service.db import utcnow
from recordings_service.errors import NotFound
from recordings_service.models import IntegrityCheckRun, Recording
from recordings_service.models.recording import RecordingStatus
from recordings_service.storage.encryption import CHUNK, DecryptionFailed, Envelope
from recordings_service.storage.object_store import ObjectStore

BATCH = 500
PROGRESS_EVERY = 500
FindingKind = Literal["mismatch", "missing"]
_COLUMNS = (Recording.id, Recording.storage_key, Recording.wrapped_data_key, Recording.sha256)
_LIVE = Recording.status != RecordingStatus.DELETED


@dataclass(frozen=True)
class Finding:
    recording_id: str
    kind: FindingKind
    reason: str  # sha256_mismatch, decryption_failed or object_missing


@dataclass
class IntegrityReport:
    run: IntegrityCheckRun
    findings: list[Finding] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.findings


def check_integrity(
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    *,
    actor: Actor,
    sample: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> IntegrityReport:
    """Re-hash every stored original (or `sample` chosen at random); audit each finding, record the run, flush.
    A full run takes hours: `progress(checked, findings)` is called every `PROGRESS_EVERY` originals."""
    started_at, started = utcnow(), time.monotonic()
    checked = 0
    findings: list[Finding] = []
    for row in _originals(session, sample=sample):
        checked += 1
        finding = _check(session, store, envelope, row)
        if finding is not None:
            findings.append(finding)
        if progress is not None and checked % PROGRESS_EVERY == 0:
            progress(checked, len(findings))
    for finding in findings:
        record_event(
            session,
            actor=actor,
            action=f"recording.integrity_{finding.kind}",
            object_type="recording",
            object_id=finding.recording_id,
            details={"reason": finding.reason},
        )
    run = IntegrityCheckRun(
        started_at=started_at,
        finished_at=utcnow(),
        sample=sample,
        checked=checked,
        mismatched=sum(1 for finding in findings if finding.kind == "mismatch"),
        missing=sum(1 for finding in findings if finding.kind == "missing"),
        duration_s=round(time.monotonic() - started, 3),
        actor=actor.name,
    )
    session.add(run)
    session.flush()
    # Every original was decrypted to be hashed: one event says so, with the counts.
    record_event(
        session,
        actor=actor,
        action="storage.integrity_checked",
        object_type="integrity_check",
        object_id=run.id,
        details={"checked": run.checked, "mismatched": run.mismatched, "missing": run.missing, "sample": sample},
    )
    return IntegrityReport(run=run, findings=findings)


def latest_run(session: Session) -> IntegrityCheckRun | None:
    return session.scalars(select(IntegrityCheckRun).order_by(IntegrityCheckRun.finished_at.desc()).limit(1)).first()


def _originals(session: Session, *, sample: int | None) -> Iterator[Row[str, str, bytes, str]]:
    """The live originals: `sample` at random, or all in id order a batch at a time (never the whole table)."""
    if sample is not None:
        yield from session.execute(select(*_COLUMNS).where(_LIVE).order_by(func.random()).limit(sample)).all()
        return
    last_id = ""
    while True:
        rows = session.execute(
            select(*_COLUMNS).where(_LIVE, Recording.id > last_id).order_by(Recording.id).limit(BATCH)
        ).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id


def _check(session: Session, store: ObjectStore, envelope: Envelope, row: Row[str, str, bytes, str]) -> Finding | None:
    reason = _fault(store, envelope, row)
    if reason is None:
        return None
    # The rows are read a batch ahead: since then the recording may have been deleted (its object with it), or a
    # card-muted copy may have replaced its original. Judge by the row as it is now.
    current = session.execute(select(*_COLUMNS).where(Recording.id == row.id, _LIVE)).one_or_none()
    if current is None:
        return None
    if tuple(current) != tuple(row):
        reason = _fault(store, envelope, current)
        if reason is None:
            return None
    return Finding(row.id, "missing" if reason == "object_missing" else "mismatch", reason)


def _fault(store: ObjectStore, envelope: Envelope, row: Row[str, str, bytes, str]) -> str | None:
    """Why the stored original does not hash to the recorded SHA-256, or None when it does."""
    digest = hashlib.sha256()
    try:
        ciphertext = store.get(row.storage_key)
        with envelope.decrypting_stream(ciphertext, wrapped=row.wrapped_data_key, object_id=row.id) as plaintext:
            while chunk := plaintext.read(CHUNK):
                digest.update(chunk)
    except NotFound:
        return "object_missing"
    except DecryptionFailed:
        return "decryption_failed"
    return None if digest.hexdigest() == row.sha256 else "sha256_mismatch"
