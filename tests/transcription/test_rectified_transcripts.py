"""A transcript corrected on a data subject's request (GDPR Art. 16) is not undone by transcribing the call again:
a re-queue is refused with why it is, and a re-transcription already under way keeps the corrected text."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings_service.audit import Actor
from recordings_service.db import utcnow
from recordings_service.errors import Conflict
from recordings_service.models import Recording, Transcript
from recordings_service.models.account import Role
from recordings_service.privacy import subjects
from recordings_service.privacy.rectification import SegmentFix, rectify
from recordings_service.runtime import Runtime
from recordings_service.transcript_text import segments_of
from recordings_service.transcription.pipeline import TranscriptDraft
from recordings_service.transcription.queue import claim_next, finish_job, requeue_transcription
from tests.factories.privacy import OFFICER, ORG_ZONE, customer
from tests.factories.reviews import make_transcribed_call
from tests.factories.transcription import leftovers_removed  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("leftovers_removed")
SUPERVISOR = Actor(id=None, name="supervisor", role=Role.QA_SUPERVISOR)
CORRECTED = "I never agreed to the two-year contract."
NEW_DRAFT = TranscriptDraft(
    engine="faster-whisper",
    model="whisper-small",
    language="en",
    detected_language=None,
    segments=[
        {"speaker": "customer", "start": 0.0, "end": 2.0, "text": "I agreed to the contract.", "words": []},
    ],
    processing_s=1.0,
)


def _call(session: Session, runtime: Runtime) -> tuple[Recording, str]:
    person = customer(session)
    return make_transcribed_call(session, runtime.store, runtime.envelope, customer_id=person.id), person.customer_ref


def _rectify(session: Session, recording: Recording, customer_ref: str) -> None:
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=customer_ref, kind="rectification", received_at=utcnow()
    )
    fix = SegmentFix(segment=1, text=CORRECTED)
    rectify(session, actor=OFFICER, request_id=request.id, recording_id=recording.id, transcript=[fix], zone=ORG_ZONE)
    session.flush()


def _texts(session: Session, recording: Recording) -> list[str]:
    transcript = session.scalars(select(Transcript).where(Transcript.recording_id == recording.id)).one()
    return [segment["text"] for segment in segments_of(session, transcript)]


def test_requeueing_a_rectified_transcript_is_refused_with_the_reason(session: Session, runtime: Runtime) -> None:
    recording, customer_ref = _call(session, runtime)
    requeue_transcription(session, actor=SUPERVISOR, recording_id=recording.id)  # not corrected yet: allowed
    _rectify(session, recording, customer_ref)
    with pytest.raises(Conflict) as refused:
        requeue_transcription(session, actor=SUPERVISOR, recording_id=recording.id)
    assert refused.value.why == "transcript_rectified"
    assert _texts(session, recording)[1] == CORRECTED


def test_a_transcription_under_way_when_the_transcript_is_rectified_keeps_the_correction(
    session: Session, runtime: Runtime
) -> None:
    recording, customer_ref = _call(session, runtime)
    requeue_transcription(session, actor=SUPERVISOR, recording_id=recording.id)
    claimed = claim_next(session, owner="w", lease_s=60)
    assert claimed is not None and claimed.recording_id == recording.id
    _rectify(session, recording, customer_ref)
    finish_job(session, job=claimed, draft=NEW_DRAFT)
    assert _texts(session, recording)[1] == CORRECTED
    session.refresh(recording)
    assert recording.status == "transcribed"
