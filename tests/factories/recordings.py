"""Factories for recordings: metadata, tokens, ingested calls, posts to the ingest API, rows stored directly."""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from recordings_service import accounts, tokens
from recordings_service.audit import Actor
from recordings_service.calls.ingest import IngestResult, ingest_recording, parse_metadata
from recordings_service.config import Settings
from recordings_service.db import make_engine, make_sessionmaker, new_id
from recordings_service.models import ApiToken, Customer, Recording, TranscriptionJob, User
from recordings_service.runtime import Runtime
from recordings_service.storage.derived import derived_versions
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore, S3ObjectStore
from recordings_service.storage.originals import SealedOriginal
from tests.factories.accounts import SYSTEM

DATA = Path(__file__).parents[1] / "data"
STEREO = DATA / "call_en_stereo.wav"
MONO = DATA / "call_mono.wav"
# Recorded for training too: trainers reach the content of such calls only (`require_trainer_may_use`).
FOR_TRAINING_TOO = ["verification", "training"]
TEST_ACTOR = Actor(id=None, name="test", role="system")
# The source of rows `make_recording` inserts, so a fixture can remove those a commit let escape.
MADE_SOURCE = "made-test"


def call_metadata(**overrides: Any) -> dict[str, Any]:
    """Valid metadata for the stereo fixture; a fresh external_call_id each time unless overridden."""
    values: dict[str, Any] = {
        "source": "pbx-test",
        "external_call_id": "call-" + secrets.token_hex(6),
        "started_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "direction": "inbound",
        "queue": "sales",
        "agent_ref": "agent-7",
        "customer_ref": "cust-" + secrets.token_hex(4),
        "language": "en",
        "channel_layout": "stereo",
        "agent_channel": "left",
        "notice_given": True,
    }
    values.update(overrides)
    return {key: value for key, value in values.items() if value is not ...}


def make_token(session: Session, *, role: str = "service", scope: str = "ingest", source: str = "pbx-test") -> str:
    """A committed token; an ingest token ingests for `source` (`call_metadata`'s by default)."""
    username = f"{role}-{secrets.token_hex(4)}"
    # No password: nobody signs in as a token's account (and hashing one costs a quarter of a second).
    user = accounts.create_user(session, actor=SYSTEM, username=username, role=role, password=None)
    bound = source if scope == "ingest" else None
    _, plain = tokens.create_token(session, actor=SYSTEM, user=user, scope=scope, source=bound)
    session.commit()
    return plain


def ingest_file(
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    settings: Settings,
    path: Path = STEREO,
    **overrides: Any,
) -> IngestResult:
    metadata = parse_metadata(json.dumps(call_metadata(**overrides)))
    return ingest_recording(
        session, store, envelope, settings=settings, actor=TEST_ACTOR, audio_path=path, metadata=metadata
    )


def post_ingest(
    client: FlaskClient,
    token: str,
    metadata: dict[str, Any] | str,
    audio: Path | bytes = STEREO,
    headers: dict[str, str] | None = None,
) -> Any:
    """Send a call to the ingest API as the telephony system does: metadata and audio as multipart form data."""
    content = audio.read_bytes() if isinstance(audio, Path) else audio
    return client.post(
        "/api/v1/recordings",
        data={
            "metadata": metadata if isinstance(metadata, str) else json.dumps(metadata),
            "audio": (io.BytesIO(content), "call.wav"),
        },
        headers={"Authorization": f"Bearer {token}", **(headers or {})},
        content_type="multipart/form-data",
    )


def make_recording(session: Session, store: ObjectStore, envelope: Envelope, **given: Any) -> Recording:
    """Encrypt the call's audio (`recording_values`: a fixture path or bytes), store it and insert its Recording row
    (flushed), skipping ingest."""
    recording = Recording(**recording_values(store, envelope, **given))
    session.add(recording)
    session.flush()
    return recording


def recording_values(
    store: ObjectStore,
    envelope: Envelope,
    *,
    audio: Path | bytes = STEREO,
    channels: int = 2,
    agent_channel: str | None = "left",
    language: str = "en",
    **overrides: Any,
) -> dict[str, Any]:
    """`make_recording`'s row, its original encrypted and stored."""
    raw = audio.read_bytes() if isinstance(audio, Path) else audio
    recording_id = overrides.pop("id", None) or new_id()
    key, sealed = store_original(store, envelope, raw=raw, recording_id=recording_id)
    values: dict[str, Any] = {
        "id": recording_id,
        "source": MADE_SOURCE,
        "external_call_id": "call-" + secrets.token_hex(6),
        "started_at": datetime.now(UTC),
        "duration_s": 30.0,
        "direction": "inbound",
        "queue": "sales",
        "agent_ref": "agent-1",
        "language": language,
        "channels": channels,
        "agent_channel": agent_channel if channels == 2 else None,
        "container": "wav",
        "codec": "pcm_mulaw",
        "sample_rate": 8000,
        "size_bytes": len(raw),
        "sha256": hashlib.sha256(raw).hexdigest(),
        "storage_key": key,
        "storage_version_id": sealed.version_id,
        "wrapped_data_key": sealed.wrapped_data_key,
        "master_key_id": sealed.master_key_id,
        "notice_given": True,
        "agreement_made": None,
        **overrides,
    }
    return values


def store_original(
    store: ObjectStore, envelope: Envelope, *, raw: bytes, recording_id: str
) -> tuple[str, SealedOriginal]:
    """Encrypt and upload an original as ingest does; returns its key and what its row keeps of it."""
    key = f"originals/{datetime.now(UTC):%Y/%m}/{recording_id}"
    with tempfile.TemporaryDirectory() as scratch:
        plain, sealed = Path(scratch) / "plain", Path(scratch) / "sealed"
        plain.write_bytes(raw)
        with plain.open("rb") as source, sealed.open("wb") as out:
            wrapped = envelope.encrypt(source, out, object_id=recording_id)
        with sealed.open("rb") as body:
            stored = store.put(key, body)
    return key, SealedOriginal(
        wrapped_data_key=wrapped.wrapped, master_key_id=wrapped.master_key_id, version_id=stored.version_id
    )


LIVE_SOURCE = "pbx-live"  # recordings committed for real by `committed_runtime` tests carry this source prefix


@pytest.fixture
def committed_runtime(settings: Settings, store: S3ObjectStore, envelope: Envelope) -> Iterator[Runtime]:
    """A runtime whose sessions really commit (no per-test rollback); its recordings are removed after."""
    engine = make_engine(settings.database_url)
    runtime = Runtime(
        settings=settings, engine=engine, sessions=make_sessionmaker(engine), store=store, envelope=envelope
    )
    yield runtime
    with runtime.sessions() as session:
        for recording in session.scalars(select(Recording).where(Recording.source.startswith(LIVE_SOURCE))):
            store.delete(recording.storage_key)
            session.execute(delete(TranscriptionJob).where(TranscriptionJob.recording_id == recording.id))
            session.delete(recording)
        session.execute(delete(Customer).where(Customer.customer_ref.startswith("cust-live")))
        service_users = select(User.id).where(User.username.startswith("service-"))
        session.execute(delete(ApiToken).where(ApiToken.user_id.in_(service_users)))
        session.execute(delete(User).where(User.username.startswith("service-")))
        session.commit()
    engine.dispose()


def derived_known_and_stored(
    session: Session, store: ObjectStore, recording_id: str
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The (key, version id) of a recording's derivatives as `derived_versions` names them, and as the store
    lists them: the retention sweep deletes the first without listing, so the two must be equal."""
    session.flush()
    known = derived_versions(session, [recording_id])[recording_id]
    stored = [(version.key, version.version_id) for version in store.list_versions(f"derived/{recording_id}/")]
    return sorted(known), sorted(stored)
