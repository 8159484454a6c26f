"""Factories for research tests: calls a study may receive (quality_study purpose, notice given, a redacted
transcript twin), institutes, and the compliance and partner principals."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.db import utcnow
from recordings_service.models import BatchItem, Institute, Recording, ResearchBatch, User
from recordings_service.models.account import Role
from recordings_service.models.research import BatchState
from recordings_service.research import batches, portal
from recordings_service.research.batches import BatchRequest
from recordings_service.research.institutes import Safeguard, create_institute
from recordings_service.research.selection import BatchCriteria
from recordings_service.runtime import Runtime
from recordings_service.storage.encryption import Envelope
from recordings_service.storage.object_store import ObjectStore
from recordings_service.tokens import create_token
from recordings_service.transcription.pipeline import TranscriptDraft, save_transcript
from tests.factories.accounts import SYSTEM, make_user
from tests.factories.evaluations import actor_of
from tests.factories.recordings import make_recording

STUDY_DAY = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
# What a customer says that redaction must take out before anything reaches a research partner.
TRUST = {"avg_logprob": -0.2, "no_speech_prob": 0.01, "suspect": False}
SEGMENTS = [
    {
        "speaker": "agent",
        "start": 0.0,
        "end": 2.0,
        "text": "welcome to northern energy how can I help",
        "words": [],
        **TRUST,
    },
    {
        "speaker": "customer",
        "start": 2.0,
        "end": 6.0,
        "text": "my identity code is 131052-308T and my phone is 040 123 4567",
        "words": [],
        **TRUST,
    },
    {
        "speaker": "customer",
        "start": 6.0,
        "end": 9.0,
        "text": "the account FI21 1234 5600 0007 85 pays",
        "words": [],
        **TRUST,
    },
]


def research_call(
    session: Session,
    store: ObjectStore,
    envelope: Envelope,
    *,
    customer_id: str | None = None,
    started_at: datetime = STUDY_DAY,
    transcribed: bool = True,
    **overrides: Any,
) -> Recording:
    """A stored call with the quality_study purpose, kept well past any study, transcribed with its twin."""
    values: dict[str, Any] = {
        "purposes": ["quality_study"],
        "retain_until": started_at + timedelta(days=3 * 365),
        "agent_ref": "agent-" + secrets.token_hex(3),
        "status": "transcribed",
        **overrides,
    }
    recording = make_recording(session, store, envelope, started_at=started_at, customer_id=customer_id, **values)
    if transcribed:
        draft = TranscriptDraft(
            engine="fake", model="fake", language="en", detected_language=None, segments=SEGMENTS, processing_s=0.1
        )
        save_transcript(session, recording_id=recording.id, draft=draft)
    session.flush()
    return recording


def institute(
    session: Session, *, country: str = "FI", safeguard: Safeguard | None = None, name: str | None = None
) -> Institute:
    return create_institute(
        session,
        actor=Actor(id=None, name="officer", role=Role.COMPLIANCE),
        name=name or "Institute " + secrets.token_hex(3),
        country=country,
        agreement_ref="DPA-" + secrets.token_hex(2),
        agreement_date=date(2026, 10, 1),
        contact="lab@example.fi",
        safeguard=safeguard,
    )


def partner(session: Session, institute_id: str, **kwargs: Any) -> User:
    user = make_user(session, role=Role.RESEARCH_PARTNER, **kwargs)
    user.institute_id = institute_id
    session.flush()
    return user


def batch_body(institute_id: str, *, sample_size: int = 20, seed: int = 7, audio: str = "redacted") -> dict[str, Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    return {
        "study": "Billing calls study",
        "purpose": "How agents explain estimated bills",
        "institute_id": institute_id,
        "criteria": {"from": "2026-11-01", "to": "2026-11-30", "sample_size": sample_size, "seed": seed},
        "study_end": (now + timedelta(days=30)).date().isoformat(),
        "access_start": (now - timedelta(hours=1)).isoformat(),
        "access_end": (now + timedelta(days=2)).isoformat(),
        "audio": audio,
    }


def reset_build(session: Session, batch: ResearchBatch) -> None:
    """Make a built batch approved again, as if it had never been built."""
    session.execute(
        update(ResearchBatch)
        .where(ResearchBatch.id == batch.id)
        .values(
            state=BatchState.APPROVED,
            build_attempts=0,
            build_done=0,
            build_error=None,
            lease_owner=None,
            lease_expires_at=None,
            package_sha256=None,
            package_size=None,
            package_wrapped_key=None,
            built_at=None,
        )
    )
    session.execute(update(BatchItem).where(BatchItem.batch_id == batch.id).values(audio_sha256=None))
    session.commit()


def draft(
    session: Session, runtime: Runtime, creator: User, institute_id: str, *, study: str = "Billing study"
) -> ResearchBatch:
    """A draft batch of `institute_id` by `creator`: November's calls, its access window open for two days."""
    now = utcnow().replace(microsecond=0)
    criteria = BatchCriteria.model_validate({"from": "2026-11-01", "to": "2026-11-30", "sample_size": 10, "seed": 7})
    request = BatchRequest(
        study=study,
        purpose="How agents explain estimated bills",
        institute_id=institute_id,
        criteria=criteria,
        study_end=(now + timedelta(days=30)).date(),
        access_start=now - timedelta(hours=1),
        access_end=now + timedelta(days=2),
    )
    return batches.create_batch(session, runtime.envelope, actor=actor_of(creator), request=request).made


def as_ready(batch: ResearchBatch, *, size: int = 12_345_678) -> ResearchBatch:
    """Mark `batch` approved and ready as a build leaves it (its package's key, wrapped data key, hash and size),
    without building: enough for pages and links; the bytes themselves are not in the store."""
    batch.state = BatchState.READY
    batch.approved_at = batch.approved_at or utcnow()
    batch.package_key = f"exports/{batch.id}/package.zip"
    batch.package_wrapped_key = b"wrapped-" + batch.id.encode()
    batch.package_sha256 = "ab" * 32
    batch.package_size = size
    batch.built_at = batch.built_at or utcnow()
    return batch


def downloaded(session: Session, batch: ResearchBatch, *, start: int = 0, stop: int = 1000) -> None:
    """Record that the institute's partner was served bytes `start`..`stop` of the package, as the download
    endpoint does (`batch.download_started`, then `batch.downloaded`; `downloads` counts it once the bytes served
    hold the whole package: `portal.completes_package`)."""
    user = partner(session, batch.institute_id)
    actor = Actor(id=user.id, name=user.username, role=Role.RESEARCH_PARTNER, ip="192.0.2.7")
    started = portal.record_download_started(session, actor=actor, batch=batch, start=start, stop=stop)
    portal.record_download(
        session, actor=actor, batch_id=batch.id, started=started, start=start, requested=stop - start, sent=stop - start
    )
    session.flush()


def downloaded_by_partner(session: Session, runtime: Runtime) -> tuple[ResearchBatch, User]:
    """A research call in a ready batch its institute's partner downloaded, and that partner (committed): what a
    partner's confirmation on the page needs."""
    research_call(session, runtime.store, runtime.envelope)
    lab = institute(session)
    batch = as_ready(draft(session, runtime, make_user(session, role=Role.COMPLIANCE), lab.id))
    downloaded(session, batch)
    user = partner(session, lab.id)
    session.commit()
    return batch, user


def downloaded_with_partner_token(session: Session, runtime: Runtime) -> tuple[ResearchBatch, str]:
    """`downloaded_by_partner`, with a `partner` token of that partner (committed): what a confirmation through
    the API needs."""
    batch, user = downloaded_by_partner(session, runtime)
    _, plain = create_token(session, actor=SYSTEM, user=user, scope="partner")
    session.commit()
    return batch, plain
