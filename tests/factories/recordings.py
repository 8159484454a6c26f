"""Small factories for ingest and recordings tests: metadata, service and staff tokens, ingested calls."""

from __future__ import annotations

import json
import secrets
import struct
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from recordings_service import accounts, tokens
from recordings_service.audit import SYSTEM, Actor
from recordings_service.calls.ingest import IngestResult, ingest_recording, parse_metadata
from recordings_service.config import Settings
from recordings_service.db import make_engine, make_sessionmaker
from recordings_service.models import ApiToken, Customer, Recording, TranscriptionJob, User
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore, S3ObjectStore

DATA = Path(__file__).parents[1] / "data"
STEREO = DATA / "call_en_stereo.wav"
MONO = DATA / "call_mono.wav"
TEST_ACTOR = Actor(id=None, name="test", role="system")


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


def make_token(session: Session, *, role: str = "service", scope: str = "ingest") -> str:
    username = f"{role}-{secrets.token_hex(4)}"
    password = None if role == "service" else secrets.token_urlsafe(16)
    user = accounts.create_user(session, actor=SYSTEM, username=username, role=role, password=password)
    _, plain = tokens.create_token(session, actor=SYSTEM, user=user, scope=scope)
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


def wav_header(*, channels: int, rate: int, data_bytes: int, bits: int = 16) -> bytes:
    """A PCM WAV header claiming `data_bytes` of audio (hostile files add less, or garbage)."""
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * block, block, bits)
    return (
        b"RIFF"
        + struct.pack("<I", 36 + data_bytes)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", data_bytes)
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
