"""Objects made from a recording (its waveform, redacted audio, training clips) under `derived/<id>/`.

Each put's version id goes into `derived_versions` in the caller's transaction, so the retention sweep
deletes a recording's derivatives without listing them (a listing costs the store and the sweep more than
the deletion). A version no row names — the transaction rolled back after the put, or someone wrote it by
hand — is left by the sweep and found, and removed, by the proof that runs after every sweep.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import BinaryIO

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from recordings_service.models import DerivedVersion, Recording
from recordings_service.storage.object_store import ObjectStore


def put_derived(session: Session, store: ObjectStore, *, recording: Recording, key: str, body: BinaryIO) -> None:
    """Put `body` at `key` and keep the version the store made; a store that names none (no versioning)
    leaves the recording's derivatives to be listed when it is deleted."""
    stored = store.put(key, body)
    if stored.version_id is None:
        recording.derived_versions_known = False
    else:
        session.add(DerivedVersion(recording_id=recording.id, key=key, version_id=stored.version_id))


def delete_derived(session: Session, store: ObjectStore, *, recording_id: str, keys: Sequence[str]) -> None:
    """Delete every version of these derivatives of a recording, and their rows."""
    for key in keys:
        store.delete(key)
    session.execute(
        delete(DerivedVersion).where(DerivedVersion.recording_id == recording_id, DerivedVersion.key.in_(list(keys))),
        execution_options={"synchronize_session": False},
    )


def derived_versions(session: Session, recording_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """The (key, version id) of every derivative each recording's rows name."""
    found: dict[str, list[tuple[str, str]]] = {recording_id: [] for recording_id in recording_ids}
    rows = session.execute(
        select(DerivedVersion.recording_id, DerivedVersion.key, DerivedVersion.version_id)
        .where(DerivedVersion.recording_id.in_(list(recording_ids)))
        .order_by(DerivedVersion.recording_id, DerivedVersion.key)
    )
    for recording_id, key, version_id in rows:
        found[recording_id].append((key, version_id))
    return found
