"""Factories for privacy tests: a bucket of their own, calls of a given age and purposes with everything a
deletion must remove (transcript and its twin, index rows, comments, marks, evaluation text, derivatives)."""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from jobs import subject_access
from recordings_service.audit import Actor
from recordings_service.config import Settings
from recordings_service.db import utcnow
from recordings_service.evaluations.scoring import Answer, evaluate_call
from recordings_service.models import (
    Annotation,
    Customer,
    Recording,
    SegmentVerification,
    SubjectRequest,
    TranscriptionJob,
)
from recordings_service.models.account import Role
from recordings_service.privacy import package_queue, restriction, subjects
from recordings_service.privacy.retention import retain_until_for
from recordings_service.runtime import Runtime
from recordings_service.storage.derived import put_derived
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore, S3ObjectStore, make_client
from recordings_service.transcription.pipeline import TranscriptDraft, save_transcript
from tests.factories.accounts import login, make_user
from tests.factories.evaluations import actor_of, answers, published_form
from tests.factories.recordings import make_recording

OFFICER = Actor(id=None, name="officer", role=Role.COMPLIANCE)
# The organisation's calendar, in which retention periods are counted: the default of CALLVAULT_TIMEZONE.
ORG_ZONE = ZoneInfo(Settings.timezone)
AUDIO = b"RIFF-not-really-audio-" + b"x" * 200


@pytest.fixture(scope="session")
def privacy_bucket(base_settings: Settings) -> S3ObjectStore:
    """A versioned bucket of these tests' own, so an orphan count sees no other test's objects."""
    bucket = S3ObjectStore(make_client(base_settings), "privacy-" + secrets.token_hex(4))
    bucket.ensure_bucket()
    return bucket


@pytest.fixture
def bucket(privacy_bucket: S3ObjectStore) -> Iterator[S3ObjectStore]:
    """The privacy bucket, emptied of every version before each test."""
    # Every version at once (DeleteObjects, 1000 a call): after the 1000-call scenario, one key at a time took 50 s.
    versions = [
        (version.key, version.version_id)
        for prefix in ("originals/", "derived/")
        for version in privacy_bucket.list_versions(prefix)
    ]
    privacy_bucket.delete_versions(versions)
    yield privacy_bucket


@pytest.fixture(name="runtime")
def runtime_on_bucket(
    settings: Settings, engine: Engine, sessions: sessionmaker[Session], bucket: S3ObjectStore, envelope: Envelope
) -> Runtime:
    """The app on the privacy bucket, so erasure and packages can be checked version by version (import it)."""
    return Runtime(settings=settings, engine=engine, sessions=sessions, store=bucket, envelope=envelope)


@pytest.fixture
def officer_client(client: FlaskClient, session: Session) -> FlaskClient:
    """The test client signed in as a compliance officer."""
    login(client, make_user(session, role=Role.COMPLIANCE))
    return client


def customer(session: Session, ref: str | None = None) -> Customer:
    row = Customer(customer_ref=ref or "cust-" + secrets.token_hex(5))
    session.add(row)
    session.flush()
    return row


def access_request(session: Session) -> SubjectRequest:
    """An open access request of a new customer, received now, committed."""
    made = subjects.create_request(
        session, actor=OFFICER, customer_ref=customer(session).customer_ref, kind="access", received_at=utcnow()
    )
    session.commit()
    return made


def aged_call(
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    *,
    started_at: datetime,
    purposes: list[str],
    agreement_made: bool | None = None,
    customer_id: str | None = None,
    derived: bool = True,
    **overrides: Any,
) -> Recording:
    """A stored call with `retain_until` from the current policies and, unless not `derived`, two versions of a
    waveform and a clip, put as the services put derivatives (each version kept in `derived_versions`)."""
    recording = make_recording(
        session,
        store,
        envelope,
        audio=AUDIO,
        started_at=started_at,
        purposes=purposes,
        agreement_made=agreement_made,
        customer_id=customer_id,
        retain_until=retain_until_for(
            session, started_at=started_at, purposes=purposes, agreement_made=agreement_made, zone=ORG_ZONE
        ),
        **overrides,
    )
    if derived:
        for version in (b"[1, 2]", b"[1, 2, 3]"):
            put_derived(
                session, store, recording=recording, key=f"derived/{recording.id}/peaks.json", body=io.BytesIO(version)
            )
        clip = f"derived/{recording.id}/clips/{secrets.token_hex(3)}.opus"
        put_derived(session, store, recording=recording, key=clip, body=io.BytesIO(b"clip"))
    session.flush()
    return recording


def reviewed(session: Session, recording: Recording) -> Recording:
    """Give the call what review leaves: a transcript (twin and index rows), a verified segment, a
    comment, an evaluation with text, and its transcription job."""
    draft = TranscriptDraft(
        engine="fake",
        model="fake",
        language="en",
        detected_language=None,
        segments=[
            {"speaker": "agent", "start": 0.0, "end": 2.0, "text": "welcome to northern energy", "words": []},
            {"speaker": "customer", "start": 2.0, "end": 4.0, "text": "my meter reading is wrong", "words": []},
        ],
        processing_s=0.1,
    )
    transcript = save_transcript(session, recording_id=recording.id, draft=draft)
    supervisor = make_user(session, role=Role.QA_SUPERVISOR)
    session.add_all(
        [
            SegmentVerification(
                transcript_id=transcript.id,
                segment_index=0,
                segment_sha256="0" * 64,
                verified_by=supervisor.id,
                verified_at=utcnow(),
            ),
            Annotation(recording_id=recording.id, at_s=1.0, text="customer sounds upset", author_id=supervisor.id),
            TranscriptionJob(recording_id=recording.id, state="done"),
        ]
    )
    actor = actor_of(supervisor)
    form = published_form(session, actor)
    values = answers(form, ["yes", "4", "yes"])
    first = next(iter(values))
    values[first] = Answer("yes", comment="greeted by name")
    evaluate_call(
        session, actor=actor, recording_id=recording.id, form_id=form.id, answers=values, comment="solid call"
    )
    session.flush()
    return recording


def reload(session: Session, recording_id: str) -> Recording:
    session.expire_all()
    return session.scalars(select(Recording).where(Recording.id == recording_id)).one()


def request_with_two_calls(
    session: Session, store: ObjectStore, envelope: Envelope, kind: str, *, restricted: bool = False
) -> tuple[SubjectRequest, Recording, Recording]:
    """An open request of `kind` (a restriction in force when `restricted`) of a customer with a newer and an
    older call."""
    now = utcnow().replace(microsecond=0)
    person = customer(session)
    newer = make_recording(session, store, envelope, customer_id=person.id, started_at=now - timedelta(days=1))
    older = make_recording(session, store, envelope, customer_id=person.id, started_at=now - timedelta(days=2))
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind=kind, received_at=now
    )
    if restricted:
        restriction.restrict_processing(session, actor=OFFICER, request_id=request.id)
    session.commit()
    return request, newer, older


def ready_access_package(session: Session, runtime: Runtime) -> SubjectRequest:
    """An access request of a customer with one call, its package built by the jobs' build (committed)."""
    now = utcnow().replace(microsecond=0)
    person = customer(session)
    aged_call(session, runtime.store, runtime.envelope, started_at=now, purposes=[], customer_id=person.id)
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="access", received_at=now
    )
    package_queue.request_package(session, actor=OFFICER, request_id=request.id)
    session.commit()
    subject_access.build_packages(runtime)
    session.refresh(request)
    assert request.package_state == "ready" and request.package_key is not None
    return request
