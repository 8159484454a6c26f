"""A call under restriction of processing (GDPR Art. 18: storage only) is not transcribed: its job is held until the
restriction is lifted, and then runs. A transcript made before the restriction is kept (storage). Found by review:
restricted calls were transcribed and indexed like any other."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from jobs import transcription as transcription_job
from recordings_service.db import utcnow
from recordings_service.models import Recording, Transcript, TranscriptionJob
from recordings_service.models.account import Role
from recordings_service.privacy import restriction, subjects
from recordings_service.runtime import Runtime
from recordings_service.transcript_text import segments_of
from recordings_service.transcription.backlog import transcription_backlog
from recordings_service.transcription.engines import Audio, EngineResult
from recordings_service.transcription.queue import (
    claim_next,
    enqueue_transcription,
    finish_job,
    transcription_status,
)
from tests.factories.accounts import login, make_user
from tests.factories.privacy import OFFICER, customer
from tests.factories.recordings import MONO, make_recording
from tests.factories.transcription import FakeEngine, leftovers_removed, spoken_draft  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("leftovers_removed")


def test_a_restricted_call_is_held_until_the_restriction_is_lifted(session: Session, runtime: Runtime) -> None:
    person = customer(session)
    call = make_recording(session, runtime.store, runtime.envelope, audio=MONO, channels=1, customer_id=person.id)
    job = enqueue_transcription(session, call)
    before = transcription_backlog(session, actor=OFFICER)
    request = subjects.create_request(
        session, actor=OFFICER, customer_ref=person.customer_ref, kind="restriction", received_at=utcnow()
    )
    restriction.restrict_processing(session, actor=OFFICER, request_id=request.id)

    assert claim_next(session, owner="w", lease_s=60) is None
    shown = transcription_status(session, call)
    assert shown is not None and (shown.state, shown.next_attempt_at) == ("held_restricted", None)
    held = transcription_backlog(session, actor=OFFICER)
    assert (held.queued, held.held_restricted) == (before.queued - 1, before.held_restricted + 1)

    restriction.lift_restriction(session, actor=OFFICER, request_id=request.id)
    claimed = claim_next(session, owner="w", lease_s=60)
    assert claimed is not None and claimed.job_id == job.id


def test_a_call_restricted_while_transcribed_keeps_its_transcript_and_waits(session: Session, runtime: Runtime) -> None:
    call = make_recording(session, runtime.store, runtime.envelope, audio=MONO, channels=1)
    job = enqueue_transcription(session, call)
    first = claim_next(session, owner="w", lease_s=60)
    assert first is not None
    finish_job(session, job=first, draft=spoken_draft("first", "take"))
    session.expire_all()  # the claim and the finish wrote the job's row behind the session's back
    enqueue_transcription(session, call)  # again, with a newer model say
    again = claim_next(session, owner="w", lease_s=60)
    assert again is not None
    call.restricted = True  # a restriction of the customer's processing, committed meanwhile
    session.flush()

    assert finish_job(session, job=again, draft=spoken_draft("second", "take")) is None
    session.refresh(job)
    assert (job.state, job.attempts, job.lease_owner) == ("queued", 0, None)
    assert session.scalar(select(Recording.status).where(Recording.id == call.id)) == "stored"
    kept = session.scalars(select(Transcript).where(Transcript.recording_id == call.id)).one()
    assert [segment["text"] for segment in segments_of(session, kept)] == [" first take"]
    assert claim_next(session, owner="w", lease_s=60) is None
    assert session.get(TranscriptionJob, job.id) is not None


def test_the_dashboard_counts_held_calls_apart_from_the_queue(
    client: FlaskClient, session: Session, runtime: Runtime
) -> None:
    for restricted in (False, True, True):
        call = make_recording(session, runtime.store, runtime.envelope, restricted=restricted)
        enqueue_transcription(session, call)
    login(client, make_user(session, role=Role.QA_SUPERVISOR))
    page = client.get("/dashboard").get_data(as_text=True)
    assert "<dt>Queued</dt><dd>1</dd>" in page and "<dt>Held: processing restricted</dt><dd>2</dd>" in page


def test_the_worker_drops_the_draft_of_a_call_restricted_while_it_ran(
    session: Session, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    call = make_recording(session, runtime.store, runtime.envelope, audio=MONO, channels=1)
    job = enqueue_transcription(session, call)
    session.commit()

    class RestrictedMeanwhile(FakeEngine):
        def transcribe(self, audio: Audio, *, language: str | None) -> EngineResult:
            with runtime.sessions() as other:
                other.execute(update(Recording).where(Recording.id == call.id).values(restricted=True))
                other.commit()
            return super().transcribe(audio, language=language)

    monkeypatch.setattr(transcription_job, "engine_for", lambda _settings: RestrictedMeanwhile(0.0))
    transcription_job.transcribe_pending(runtime, budget_s=30)
    session.expire_all()
    assert (job.state, job.attempts) == ("queued", 0)
    assert session.scalar(select(Transcript.id).where(Transcript.recording_id == call.id)) is None


def test_a_restricted_calls_job_whose_worker_died_is_set_aside_not_stalled(session: Session, runtime: Runtime) -> None:
    call = make_recording(session, runtime.store, runtime.envelope, audio=MONO, channels=1)
    job = enqueue_transcription(session, call)
    assert claim_next(session, owner="died", lease_s=60) is not None
    call.restricted = True
    session.flush()

    assert claim_next(session, owner="w", lease_s=60, now=utcnow() + timedelta(seconds=61)) is None
    session.refresh(job)
    assert (job.state, job.attempts, job.lease_owner) == ("queued", 0, None)
    assert session.scalar(select(Recording.status).where(Recording.id == call.id)) == "stored"
